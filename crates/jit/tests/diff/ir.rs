//! The generator's program representation and its rendering as Dis
//! assembler.
//!
//! Programs are kept as statements rather than text so that a failing
//! program can be shrunk by deleting statements: a statement is a run of
//! instructions that no branch enters except at its own labels, so taking
//! one out leaves every other statement well-formed.

use std::collections::HashMap;
use std::fmt::Write;

use super::layout::{self, ty};

/// A branch target. Labels of case `k` have scope `k + 1`; scope 0 is the
/// dump and setup functions', and init has its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    pub scope: u32,
    pub id: u32,
}

/// An operand, written as in Inferno's assembler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opd {
    /// `$v`; also type numbers.
    Imm(i64),
    /// `n(fp)`.
    Fp(i32),
    /// `n(mp)`.
    Mp(i32),
    /// `off(ptr(fp))`.
    IFp { off: i32, ptr: i32 },
    /// `off(ptr(mp))`.
    IMp { off: i32, ptr: i32 },
    /// `$pc` of a label.
    Lab(Label),
    /// `$-k`: the export of the function at a label, for `mframe` and
    /// `mcall` through the module's own link.
    Link(Label),
}

/// One instruction: its assembler name and operands in assembler order.
#[derive(Clone, Debug)]
pub struct Ins {
    pub op: &'static str,
    pub args: Vec<Opd>,
}

/// An instruction or a label within straight-line code, or a comment
/// for the reader of the assembler text.
#[derive(Clone, Debug)]
pub enum Item {
    I(Ins),
    L(Label),
    Note(String),
}

/// The comment that starts the dump function.
pub const DUMP_MARK: &str = "# the dump function";

/// Builds an [`Item::I`].
pub fn ins(op: &'static str, args: &[Opd]) -> Item {
    Item::I(Ins { op, args: args.to_vec() })
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// Instructions run as a unit: branches from outside never land in
    /// the middle (its own labels serve only its own branches).
    Code(Vec<Item>),
    /// A target of forward branches and handler ranges; never removed.
    Label(Label),
    /// `body` run `times` times, counting down in frame word `counter`.
    Loop { counter: i32, times: i64, top: Label, body: Vec<Stmt> },
}

/// An exception handler: it covers the instructions from `from` up to
/// `to`, stores the exception at `eoff` and resets the frame's pointers of
/// type `desc` (or none for -1).
#[derive(Clone, Debug)]
pub struct Handler {
    pub from: Label,
    pub to: Label,
    pub eoff: i32,
    pub desc: i32,
    pub cases: Vec<(String, Label)>,
    pub wildcard: Option<Label>,
}

/// A generated function: `body` (shrinkable), then at `end` the `tail`
/// (what it reports and returns), which handlers may jump to. It runs in
/// frames of type `frame`.
#[derive(Clone, Debug)]
pub struct Func {
    pub entry: Label,
    pub frame: i32,
    pub body: Vec<Stmt>,
    pub end: Label,
    pub tail: Vec<Item>,
    pub handlers: Vec<Handler>,
}

/// One test case: a function init calls, and the helpers it calls.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: u32,
    pub funcs: Vec<Func>,
}

/// A module: init calls every case in turn. With `catch`, init catches
/// what a case lets through, reports it and goes on with the next case;
/// without, it kills the program.
#[derive(Clone, Debug)]
pub struct Program {
    pub cases: Vec<Case>,
    pub catch: bool,
}

impl Stmt {
    /// Flattens into `out`.
    fn emit(&self, out: &mut Vec<Item>) {
        match self {
            Stmt::Code(items) => out.extend(items.iter().cloned()),
            Stmt::Label(l) => out.push(Item::L(*l)),
            Stmt::Loop { counter, times, top, body } => {
                out.push(ins("movw", &[Opd::Imm(*times), Opd::Fp(*counter)]));
                out.push(Item::L(*top));
                for s in body {
                    s.emit(out);
                }
                out.push(ins("subw", &[Opd::Imm(1), Opd::Fp(*counter)]));
                out.push(ins("bgtw", &[Opd::Fp(*counter), Opd::Imm(0), Opd::Lab(*top)]));
            }
        }
    }
}

/// The scope of init's labels.
const INIT: u32 = u32::MAX;

/// init's call of the case at position `k`.
fn init_label(k: usize) -> Label {
    Label { scope: INIT, id: k as u32 }
}

/// init's other labels.
const INIT_NEXT: Label = Label { scope: INIT, id: u32::MAX };
const INIT_AFTER: Label = Label { scope: INIT, id: u32::MAX - 1 };
const INIT_END: Label = Label { scope: INIT, id: u32::MAX - 2 };
const INIT_REPORT: Label = Label { scope: INIT, id: u32::MAX - 3 };

/// The whole module as assembler text.
pub fn render(p: &Program) -> String {
    let mut code: Vec<Item> = Vec::new();
    let mut handlers: Vec<Handler> = Vec::new();
    init(p, &mut code, &mut handlers);
    let dump = layout::dump();
    code.push(Item::Note(DUMP_MARK.to_string()));
    code.extend(dump.code);
    code.push(Item::Note("# the setup function".to_string()));
    code.extend(layout::setup());
    for case in &p.cases {
        for (k, f) in case.funcs.iter().enumerate() {
            let what = if k == 0 { "".to_string() } else { format!(", helper {k}") };
            code.push(Item::Note(format!("# case {}{what}", case.id)));
            code.push(Item::L(f.entry));
            for s in &f.body {
                s.emit(&mut code);
            }
            code.push(Item::L(f.end));
            code.extend(f.tail.iter().cloned());
            handlers.extend(f.handlers.iter().cloned());
        }
    }
    // Pass 1: the pc of every label.
    let mut pcs: HashMap<Label, usize> = HashMap::new();
    let mut pc = 0;
    for it in &code {
        match it {
            Item::I(_) => pc += 1,
            Item::L(l) => {
                let old = pcs.insert(*l, pc);
                assert!(old.is_none(), "label {l:?} placed twice");
            }
            Item::Note(_) => {}
        }
    }
    let at = |l: &Label| *pcs.get(l).unwrap_or_else(|| panic!("label {l:?} never placed"));
    // Every helper is exported, after init.
    let exports: Vec<&Func> = p.cases.iter().flat_map(|c| &c.funcs[1..]).collect();
    let export = |l: &Label| 1 + exports.iter().position(|f| f.entry == *l).expect("an exported helper");
    // Pass 2: text.
    let mut out = String::with_capacity(pc * 32);
    let flags = if handlers.is_empty() { "hasldt" } else { "hasexcept,hasldt" };
    writeln!(out, "\tflags\t{flags}\n\tstack\t4096").unwrap();
    writeln!(out, "# init").unwrap();
    let mut pc = 0;
    for it in &code {
        let i = match it {
            Item::I(i) => i,
            Item::Note(text) => {
                writeln!(out, "{text} (pc {pc})").unwrap();
                continue;
            }
            Item::L(_) => continue,
        };
        pc += 1;
        out.push('\t');
        out.push_str(i.op);
        for (k, a) in i.args.iter().enumerate() {
            out.push(if k == 0 { '\t' } else { ',' });
            match *a {
                Opd::Imm(v) => write!(out, "${v}"),
                Opd::Fp(o) => write!(out, "{o}(fp)"),
                Opd::Mp(o) => write!(out, "{o}(mp)"),
                Opd::IFp { off, ptr } => write!(out, "{off}({ptr}(fp))"),
                Opd::IMp { off, ptr } => write!(out, "{off}({ptr}(mp))"),
                Opd::Lab(l) => write!(out, "${}", at(&l)),
                Opd::Link(l) => write!(out, "$-{}", export(&l) + 1),
            }
            .unwrap();
        }
        out.push('\n');
    }
    writeln!(out, "\tentry\t0,{}", ty::INIT).unwrap();
    for (id, size, ptrs) in layout::types(dump.print_size, &dump.print_ptrs) {
        writeln!(out, "\tdesc\t${id},{size},\"{}\"", pointer_map(&ptrs)).unwrap();
    }
    let calls: Vec<usize> = (0..p.cases.len()).map(|k| at(&init_label(k))).collect();
    layout::data(&mut out, &dump.fmt, &calls);
    writeln!(out, "\tmodule\tDiff\n\tlink\t{},0,0x4244b354,\"init\"", ty::INIT).unwrap();
    for (k, f) in exports.iter().enumerate() {
        writeln!(out, "\tlink\t{},{},0,\"h{k}\"", f.frame, at(&f.entry)).unwrap();
    }
    writeln!(out, "\tldt\t1\n\text\t0xac849033,\"print\"").unwrap();
    if !handlers.is_empty() {
        writeln!(out, "\texceptions\t{}", handlers.len()).unwrap();
        for h in &handlers {
            writeln!(
                out,
                "\texception\t{},{},{},{},{},0",
                at(&h.from),
                at(&h.to),
                h.eoff,
                h.desc,
                h.cases.len()
            )
            .unwrap();
            for (name, l) in &h.cases {
                writeln!(out, "\texctab\t\"{name}\",{}", at(l)).unwrap();
            }
            // The assembler wants the wildcard line; -1 is none.
            let wildcard = h.wildcard.map_or(-1, |l| at(&l) as i64);
            writeln!(out, "\texctab\t*,{wildcard}").unwrap();
        }
    }
    out
}

/// init: loads Sys, then calls the cases in turn, in a loop over a
/// `goto` table of its call instructions, which keeps init (compiled like
/// everything else) short. With `catch`, a handler over the calls reports
/// what a case let through (with the case's position in the module) and
/// goes on with the next.
fn init(p: &Program, code: &mut Vec<Item>, handlers: &mut Vec<Handler>) {
    use layout::init::*;
    use layout::mp;
    use Opd::*;
    code.push(ins("load", &[Mp(mp::SYS_NAME), Imm(0), Mp(mp::SYS)]));
    code.push(ins("movw", &[Imm(0), Fp(CASE)]));
    code.push(Item::L(INIT_NEXT));
    code.push(ins("bgew", &[Fp(CASE), Imm(p.cases.len() as i64), Lab(INIT_END)]));
    code.push(ins("frame", &[Imm(ty::SCRATCH as i64), Fp(CALL)]));
    code.push(ins("movw", &[Fp(CALL), IFp { off: layout::fr::SELF, ptr: CALL }]));
    code.push(ins("goto", &[Fp(CASE), Mp(mp::CALLS)]));
    for (k, c) in p.cases.iter().enumerate() {
        code.push(Item::L(init_label(k)));
        code.push(ins("call", &[Fp(CALL), Lab(c.funcs[0].entry)]));
        code.push(ins("jmp", &[Lab(INIT_AFTER)]));
    }
    code.push(Item::L(INIT_AFTER));
    code.push(ins("addw", &[Imm(1), Fp(CASE)]));
    code.push(ins("jmp", &[Lab(INIT_NEXT)]));
    code.push(Item::L(INIT_END));
    code.push(ins("ret", &[]));
    if !p.catch {
        return;
    }
    code.push(Item::L(INIT_REPORT));
    code.push(ins("frame", &[Imm(ty::INIT_PRINT as i64), Fp(PRINT)]));
    code.push(ins("movp", &[Mp(mp::INIT_FMT), IFp { off: 64, ptr: PRINT }]));
    code.push(ins("movw", &[Fp(CASE), IFp { off: 72, ptr: PRINT }]));
    code.push(ins("movp", &[Fp(EXC), IFp { off: 80, ptr: PRINT }]));
    code.push(ins("mcall", &[Fp(PRINT), Imm(0), Mp(mp::SYS)]));
    code.push(ins("jmp", &[Lab(INIT_AFTER)]));
    handlers.push(Handler {
        from: init_label(0),
        to: INIT_AFTER,
        eoff: EXC,
        desc: -1,
        cases: Vec::new(),
        wildcard: Some(INIT_REPORT),
    });
}

/// A type's pointer map in the assembler's hex: one bit per word, most
/// significant first.
pub fn pointer_map(ptrs: &[i32]) -> String {
    let Some(&last) = ptrs.iter().max() else { return String::new() };
    let mut bytes = vec![0u8; (last as usize / 8) / 8 + 1];
    for &p in ptrs {
        let w = p as usize / 8;
        bytes[w / 8] |= 0x80 >> (w % 8);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
