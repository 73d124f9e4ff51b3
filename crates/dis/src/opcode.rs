//! The one opcode table: every Dis instruction's number, assembler name and
//! operand rules. The loader's validation, the assembler, the disassembler,
//! the interpreter's dispatch and the JIT all read it.

use std::fmt;

/// Width of a value an operand reads or writes, for bounds and pointer-map checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `byte`: 1 byte.
    B,
    /// A Dis word (Limbo `int`): the module's word size.
    W,
    /// `big`: 8 bytes.
    L,
    /// `real`: 8 bytes.
    F,
    /// A heap pointer (string, array, list, ADT, channel, module): word size,
    /// and the slot must be a pointer slot in the type map.
    P,
    /// A 2-byte short (`cvtws`/`cvtsw`).
    S16,
    /// A 4-byte short real (`cvtrf`/`cvtfr`).
    R32,
}

impl Ty {
    /// Size in bytes for a module with the given word size.
    pub fn size(self, word: usize) -> usize {
        match self {
            Ty::B => 1,
            Ty::W | Ty::P => word,
            Ty::L | Ty::F => 8,
            Ty::S16 => 2,
            Ty::R32 => 4,
        }
    }
}

/// What an instruction does with one of its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Reads a value.
    Read(Ty),
    /// Writes a value.
    Write(Ty),
    /// Reads and replaces a pointer (list cons, string/array slice in place).
    Update,
    /// The operand's address is used, not a value: a block of memory whose
    /// size the instruction knows at run time and may write (`lea`, `movm`'s
    /// destination, `recv`, `alt`, jump tables).
    Addr,
    /// Reads a block whose size the instruction knows at run time (`send`,
    /// `movm`'s source); an immediate stands for its own word.
    Val,
    /// An immediate instruction index: branch, call or spawn target.
    Target,
    /// An immediate index into this module's type descriptors.
    Type,
}

/// Whether an operand is absent, optional or required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Must be absent.
    No,
    /// May be absent. An absent middle operand means "same as destination".
    Opt(Kind),
    /// Must be present.
    Req(Kind),
}

impl Slot {
    /// The operand's kind if the slot may hold one.
    pub fn kind(self) -> Option<Kind> {
        match self {
            Slot::No => None,
            Slot::Opt(k) | Slot::Req(k) => Some(k),
        }
    }
}

/// One row of the opcode table.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    pub op: Opcode,
    pub name: &'static str,
    pub src: Slot,
    pub mid: Slot,
    pub dst: Slot,
}

macro_rules! slot {
    (_) => {
        Slot::No
    };
    (($k:tt)) => {
        Slot::Opt(kind!($k))
    };
    ($k:tt) => {
        Slot::Req(kind!($k))
    };
}

macro_rules! kind {
    (rb) => {
        Kind::Read(Ty::B)
    };
    (rw) => {
        Kind::Read(Ty::W)
    };
    (rl) => {
        Kind::Read(Ty::L)
    };
    (rf) => {
        Kind::Read(Ty::F)
    };
    (rp) => {
        Kind::Read(Ty::P)
    };
    (rs) => {
        Kind::Read(Ty::S16)
    };
    (rr) => {
        Kind::Read(Ty::R32)
    };
    (wb) => {
        Kind::Write(Ty::B)
    };
    (ww) => {
        Kind::Write(Ty::W)
    };
    (wl) => {
        Kind::Write(Ty::L)
    };
    (wf) => {
        Kind::Write(Ty::F)
    };
    (wp) => {
        Kind::Write(Ty::P)
    };
    (ws) => {
        Kind::Write(Ty::S16)
    };
    (wr) => {
        Kind::Write(Ty::R32)
    };
    (up) => {
        Kind::Update
    };
    (a) => {
        Kind::Addr
    };
    (v) => {
        Kind::Val
    };
    (t) => {
        Kind::Target
    };
    (ty) => {
        Kind::Type
    };
}

macro_rules! opcodes {
    ($($variant:ident = $num:literal $name:literal [$s:tt, $m:tt, $d:tt];)*) => {
        /// A Dis opcode. The discriminant is the byte in the file.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode { $($variant = $num,)* }

        /// The table, indexed by opcode number.
        pub static OPCODES: &[OpInfo] = &[
            $(OpInfo { op: Opcode::$variant, name: $name,
                       src: slot!($s), mid: slot!($m), dst: slot!($d) },)*
        ];
    };
}

// Operand rules follow the instruction semantics of Inferno's interpreter:
// `src, mid, dst`; `(k)` marks an optional operand; `_` an absent one.
opcodes! {
    Nop = 0 "nop" [_, _, _];
    Alt = 1 "alt" [a, _, ww];
    Nbalt = 2 "nbalt" [a, _, ww];
    Goto = 3 "goto" [rw, _, a];
    Call = 4 "call" [rw, _, t];
    Frame = 5 "frame" [ty, _, ww];
    Spawn = 6 "spawn" [rw, _, t];
    Runt = 7 "runt" [_, _, _];
    Load = 8 "load" [rp, rw, wp];
    Mcall = 9 "mcall" [rw, rw, rp];
    Mspawn = 10 "mspawn" [rw, rw, rp];
    Mframe = 11 "mframe" [rp, rw, ww];
    Ret = 12 "ret" [_, _, _];
    Jmp = 13 "jmp" [_, _, t];
    Case = 14 "case" [rw, _, a];
    Exit = 15 "exit" [_, _, _];
    New = 16 "new" [ty, _, wp];
    Newa = 17 "newa" [rw, ty, wp];
    Newcb = 18 "newcb" [_, (rw), wp];
    Newcw = 19 "newcw" [_, (rw), wp];
    Newcf = 20 "newcf" [_, (rw), wp];
    Newcp = 21 "newcp" [_, (rw), wp];
    Newcm = 22 "newcm" [rw, (rw), wp];
    Newcmp = 23 "newcmp" [ty, (rw), wp];
    Send = 24 "send" [v, _, rp];
    Recv = 25 "recv" [rp, _, a];
    Consb = 26 "consb" [rb, _, up];
    Consw = 27 "consw" [rw, _, up];
    Consp = 28 "consp" [rp, _, up];
    Consf = 29 "consf" [rf, _, up];
    Consm = 30 "consm" [v, rw, up];
    Consmp = 31 "consmp" [v, ty, up];
    Headb = 32 "headb" [rp, _, wb];
    Headw = 33 "headw" [rp, _, ww];
    Headp = 34 "headp" [rp, _, wp];
    Headf = 35 "headf" [rp, _, wf];
    Headm = 36 "headm" [rp, rw, a];
    Headmp = 37 "headmp" [rp, ty, a];
    Tail = 38 "tail" [rp, _, wp];
    Lea = 39 "lea" [a, _, ww];
    Indx = 40 "indx" [rp, ww, rw];
    Movp = 41 "movp" [rp, _, wp];
    Movm = 42 "movm" [v, rw, a];
    Movmp = 43 "movmp" [v, ty, a];
    Movb = 44 "movb" [rb, _, wb];
    Movw = 45 "movw" [rw, _, ww];
    Movf = 46 "movf" [rf, _, wf];
    Cvtbw = 47 "cvtbw" [rb, _, ww];
    Cvtwb = 48 "cvtwb" [rw, _, wb];
    Cvtfw = 49 "cvtfw" [rf, _, ww];
    Cvtwf = 50 "cvtwf" [rw, _, wf];
    Cvtca = 51 "cvtca" [rp, _, wp];
    Cvtac = 52 "cvtac" [rp, _, wp];
    Cvtwc = 53 "cvtwc" [rw, _, wp];
    Cvtcw = 54 "cvtcw" [rp, _, ww];
    Cvtfc = 55 "cvtfc" [rf, _, wp];
    Cvtcf = 56 "cvtcf" [rp, _, wf];
    Addb = 57 "addb" [rb, (rb), wb];
    Addw = 58 "addw" [rw, (rw), ww];
    Addf = 59 "addf" [rf, (rf), wf];
    Subb = 60 "subb" [rb, (rb), wb];
    Subw = 61 "subw" [rw, (rw), ww];
    Subf = 62 "subf" [rf, (rf), wf];
    Mulb = 63 "mulb" [rb, (rb), wb];
    Mulw = 64 "mulw" [rw, (rw), ww];
    Mulf = 65 "mulf" [rf, (rf), wf];
    Divb = 66 "divb" [rb, (rb), wb];
    Divw = 67 "divw" [rw, (rw), ww];
    Divf = 68 "divf" [rf, (rf), wf];
    Modw = 69 "modw" [rw, (rw), ww];
    Modb = 70 "modb" [rb, (rb), wb];
    Andb = 71 "andb" [rb, (rb), wb];
    Andw = 72 "andw" [rw, (rw), ww];
    Orb = 73 "orb" [rb, (rb), wb];
    Orw = 74 "orw" [rw, (rw), ww];
    Xorb = 75 "xorb" [rb, (rb), wb];
    Xorw = 76 "xorw" [rw, (rw), ww];
    Shlb = 77 "shlb" [rw, (rb), wb];
    Shlw = 78 "shlw" [rw, (rw), ww];
    Shrb = 79 "shrb" [rw, (rb), wb];
    Shrw = 80 "shrw" [rw, (rw), ww];
    Insc = 81 "insc" [rw, rw, up];
    Indc = 82 "indc" [rp, rw, ww];
    Addc = 83 "addc" [rp, (rp), wp];
    Lenc = 84 "lenc" [rp, _, ww];
    Lena = 85 "lena" [rp, _, ww];
    Lenl = 86 "lenl" [rp, _, ww];
    Beqb = 87 "beqb" [rb, rb, t];
    Bneb = 88 "bneb" [rb, rb, t];
    Bltb = 89 "bltb" [rb, rb, t];
    Bleb = 90 "bleb" [rb, rb, t];
    Bgtb = 91 "bgtb" [rb, rb, t];
    Bgeb = 92 "bgeb" [rb, rb, t];
    Beqw = 93 "beqw" [rw, rw, t];
    Bnew = 94 "bnew" [rw, rw, t];
    Bltw = 95 "bltw" [rw, rw, t];
    Blew = 96 "blew" [rw, rw, t];
    Bgtw = 97 "bgtw" [rw, rw, t];
    Bgew = 98 "bgew" [rw, rw, t];
    Beqf = 99 "beqf" [rf, rf, t];
    Bnef = 100 "bnef" [rf, rf, t];
    Bltf = 101 "bltf" [rf, rf, t];
    Blef = 102 "blef" [rf, rf, t];
    Bgtf = 103 "bgtf" [rf, rf, t];
    Bgef = 104 "bgef" [rf, rf, t];
    Beqc = 105 "beqc" [rp, rp, t];
    Bnec = 106 "bnec" [rp, rp, t];
    Bltc = 107 "bltc" [rp, rp, t];
    Blec = 108 "blec" [rp, rp, t];
    Bgtc = 109 "bgtc" [rp, rp, t];
    Bgec = 110 "bgec" [rp, rp, t];
    Slicea = 111 "slicea" [rw, rw, up];
    Slicela = 112 "slicela" [rp, rw, rp];
    Slicec = 113 "slicec" [rw, rw, up];
    Indw = 114 "indw" [rp, ww, rw];
    Indf = 115 "indf" [rp, ww, rw];
    Indb = 116 "indb" [rp, ww, rw];
    Negf = 117 "negf" [rf, _, wf];
    Movl = 118 "movl" [rl, _, wl];
    Addl = 119 "addl" [rl, (rl), wl];
    Subl = 120 "subl" [rl, (rl), wl];
    Divl = 121 "divl" [rl, (rl), wl];
    Modl = 122 "modl" [rl, (rl), wl];
    Mull = 123 "mull" [rl, (rl), wl];
    Andl = 124 "andl" [rl, (rl), wl];
    Orl = 125 "orl" [rl, (rl), wl];
    Xorl = 126 "xorl" [rl, (rl), wl];
    Shll = 127 "shll" [rw, (rl), wl];
    Shrl = 128 "shrl" [rw, (rl), wl];
    Bnel = 129 "bnel" [rl, rl, t];
    Bltl = 130 "bltl" [rl, rl, t];
    Blel = 131 "blel" [rl, rl, t];
    Bgtl = 132 "bgtl" [rl, rl, t];
    Bgel = 133 "bgel" [rl, rl, t];
    Beql = 134 "beql" [rl, rl, t];
    Cvtlf = 135 "cvtlf" [rl, _, wf];
    Cvtfl = 136 "cvtfl" [rf, _, wl];
    Cvtlw = 137 "cvtlw" [rl, _, ww];
    Cvtwl = 138 "cvtwl" [rw, _, wl];
    Cvtlc = 139 "cvtlc" [rl, _, wp];
    Cvtcl = 140 "cvtcl" [rp, _, wl];
    Headl = 141 "headl" [rp, _, wl];
    Consl = 142 "consl" [rl, _, up];
    Newcl = 143 "newcl" [_, (rw), wp];
    Casec = 144 "casec" [rp, _, a];
    Indl = 145 "indl" [rp, ww, rw];
    Movpc = 146 "movpc" [t, _, ww];
    Tcmp = 147 "tcmp" [rp, _, rp];
    Mnewz = 148 "mnewz" [rp, rw, wp];
    Cvtrf = 149 "cvtrf" [rr, _, wf];
    Cvtfr = 150 "cvtfr" [rf, _, wr];
    Cvtws = 151 "cvtws" [rw, _, ws];
    Cvtsw = 152 "cvtsw" [rs, _, ww];
    Lsrw = 153 "lsrw" [rw, (rw), ww];
    Lsrl = 154 "lsrl" [rw, (rl), wl];
    Eclr = 155 "eclr" [_, _, _];
    Newz = 156 "newz" [ty, _, wp];
    Newaz = 157 "newaz" [rw, ty, wp];
    Raise = 158 "raise" [rp, _, _];
    Casel = 159 "casel" [rl, _, a];
    Mulx = 160 "mulx" [rw, (rw), ww];
    Divx = 161 "divx" [rw, (rw), ww];
    Cvtxx = 162 "cvtxx" [rw, rw, ww];
    Mulx0 = 163 "mulx0" [rw, (rw), ww];
    Divx0 = 164 "divx0" [rw, (rw), ww];
    Cvtxx0 = 165 "cvtxx0" [rw, rw, ww];
    Mulx1 = 166 "mulx1" [rw, (rw), ww];
    Divx1 = 167 "divx1" [rw, (rw), ww];
    Cvtxx1 = 168 "cvtxx1" [rw, rw, ww];
    Cvtfx = 169 "cvtfx" [rf, rf, ww];
    Cvtxf = 170 "cvtxf" [rw, rf, wf];
    Expw = 171 "expw" [rw, (rw), ww];
    Expl = 172 "expl" [rw, (rl), wl];
    Expf = 173 "expf" [rw, (rf), wf];
    Self_ = 174 "self" [_, _, wp];
}

/// Number of opcodes (`INOP`..`ISELF`).
pub const NUM_OPCODES: usize = 175;

/// The number of arms of a `case`, `casel` or `casec` table whose count
/// word is `count`: a negative count `n` stands for `-n - 1` arms, as the
/// VM has always read it (`!n`, which cannot overflow).
pub fn case_arms(count: i64) -> u64 {
    (if count < 0 { !count } else { count }) as u64
}

impl Opcode {
    /// The opcode with this number, if there is one.
    pub fn from_u8(b: u8) -> Option<Opcode> {
        OPCODES.get(b as usize).map(|i| i.op)
    }

    /// The opcode with this assembler name.
    pub fn from_name(name: &str) -> Option<Opcode> {
        OPCODES.iter().find(|i| i.name == name).map(|i| i.op)
    }

    /// This opcode's row of the table.
    pub fn info(self) -> &'static OpInfo {
        &OPCODES[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// True for instructions whose destination is a branch target taken
    /// conditionally (the `b*` compare-and-branch family).
    pub fn is_cond_branch(self) -> bool {
        matches!(self.info().mid, Slot::Req(_)) && matches!(self.info().dst, Slot::Req(Kind::Target))
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_opcode() {
        assert_eq!(OPCODES.len(), NUM_OPCODES);
        for (i, row) in OPCODES.iter().enumerate() {
            assert_eq!(row.op as usize, i, "{}", row.name);
        }
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for row in OPCODES {
            assert_eq!(Opcode::from_name(row.name), Some(row.op));
        }
        assert_eq!(Opcode::from_name("bogus"), None);
        assert_eq!(Opcode::from_u8(175), None);
    }

    #[test]
    fn middle_operands_never_take_addresses() {
        // The encoding gives the middle operand no indirect mode, so no
        // instruction may need its address.
        for row in OPCODES {
            assert!(!matches!(row.mid.kind(), Some(Kind::Addr | Kind::Val | Kind::Update)), "{}", row.name);
        }
    }

    #[test]
    fn only_branches_compare_two_sources_without_writing() {
        for row in OPCODES {
            if row.op.is_cond_branch() {
                assert!(row.name.starts_with('b'), "{}", row.name);
            }
        }
        assert!(Opcode::Beql.is_cond_branch());
        assert!(!Opcode::Jmp.is_cond_branch());
        assert!(!Opcode::Call.is_cond_branch());
    }
}
