//! Programs no compiler emits, which reach memory through computed
//! addresses: each must end with the exception shown. Run by the
//! interpreter's and the JIT's tests. The frame (type 1, `ops_program`) has
//! pointers at 96..160 and plain words at 160..400; type 4 is a 16-byte
//! record whose second word is a pointer, type 5 a 24-byte record of words.

const SEGV: &str = "sys: segmentation violation";
const NILREF: &str = "dereference of nil";
const FRAME: &str = "bad frame";
const PC: &str = "illegal dis instruction";
const BOUNDS: &str = "array bounds error";

/// (what the program does, its body, the exception it must raise); a line
/// `--` ends the body and starts its module data (`ops_program`'s `extra`).
fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("reads past a record", "new $5,96(fp)\nmovw 24(96(fp)),160(fp)", SEGV),
        ("writes past a record", "new $5,96(fp)\nmovw $1,32(96(fp))", SEGV),
        ("a byte past a record", "new $5,96(fp)\nmovb $1,24(96(fp))", SEGV),
        ("a word across a record's end", "new $5,96(fp)\nmovw $1,20(96(fp))", SEGV),
        ("an integer as a pointer", "movw $1234567,160(fp)\nmovw 0(160(fp)),168(fp)", SEGV),
        ("a small integer as a pointer", "movw $64,160(fp)\nmovw $1,0(160(fp))", NILREF),
        ("a word over a pointer slot", "new $4,96(fp)\nmovw $7,8(96(fp))", SEGV),
        ("a real over a pointer slot", "new $4,96(fp)\nmovf 160(fp),8(96(fp))", SEGV),
        ("a pointer from a plain word", "new $5,96(fp)\nmovw $1234,0(96(fp))\nmovp 0(96(fp)),104(fp)", SEGV),
        ("a pointer from a plain frame word", "movw $1234567,160(fp)\nmovp 160(fp),96(fp)", SEGV),
        (
            "a freed record through a plain frame word",
            "new $5,96(fp)\nmovw 96(fp),160(fp)\nmovp 104(fp),96(fp)\nmovp 160(fp),104(fp)",
            SEGV,
        ),
        ("a pointer into a plain word", "new $5,96(fp)\nnew $5,104(fp)\nmovp 104(fp),8(96(fp))", SEGV),
        ("an array's length", "newa $2,$5,96(fp)\nmovw $100,0(96(fp))", SEGV),
        (
            "past an array's last element",
            "newa $2,$5,96(fp)\nindx 96(fp),160(fp),$1\nmovw $1,24(160(fp))",
            SEGV,
        ),
        (
            "a word over an element's pointer",
            "newa $2,$0,96(fp)\nindw 96(fp),160(fp),$1\nmovw $1,0(160(fp))",
            SEGV,
        ),
        (
            "a pointer into an element's plain word",
            "newa $2,$5,96(fp)\nindw 96(fp),160(fp),$1\nmovp 104(fp),0(160(fp))",
            SEGV,
        ),
        ("a string's bytes", "movw $1,0(16(mp))", SEGV),
        ("a module link's insides", "movw 0(8(mp)),160(fp)", SEGV),
        (
            "a freed record through a kept address",
            "new $5,96(fp)\nlea 0(96(fp)),160(fp)\nnew $5,96(fp)\nmovw $1,0(160(fp))",
            SEGV,
        ),
        ("a new frame's registers", "frame $2,160(fp)\nmovw $0,16(160(fp))", SEGV),
        ("a new frame's type register", "frame $2,160(fp)\nmovw 24(160(fp)),168(fp)", SEGV),
        ("past a new frame", "frame $2,160(fp)\nmovw $1,80(160(fp))", SEGV),
        ("a word over a new frame's pointer", "frame $3,160(fp)\nmovw $1,72(160(fp))", SEGV),
        ("a word over a built-in's frame's pointer", "mframe 8(mp),$0,160(fp)\nmovw $1,64(160(fp))", SEGV),
        ("a pointer into a built-in's frame's word", "mframe 8(mp),$0,160(fp)\nmovp 16(mp),72(160(fp))", SEGV),
        ("past a built-in's frame", "mframe 8(mp),$0,160(fp)\nmovw $1,480(160(fp))", SEGV),
        ("far past a built-in's frame", "mframe 8(mp),$0,160(fp)\nmovw $1,4096(160(fp))", SEGV),
        ("movm past the frame", "movm 160(fp),$4096,200(fp)", SEGV),
        ("movm over the frame's pointers", "movm 160(fp),$16,96(fp)", SEGV),
        ("movm from an integer", "movw $1234567,160(fp)\nmovm 0(160(fp)),$8,168(fp)", SEGV),
        ("movmp onto plain words", "new $4,96(fp)\nmovmp 96(fp),$4,160(fp)", SEGV),
        ("send from an integer", "newcw 96(fp)\nmovw $1234567,160(fp)\nsend 0(160(fp)),96(fp)", SEGV),
        (
            "alt on an integer as a channel",
            "movw $1234567,168(fp)\nlea 176(fp),176(fp)\nmovw $0,200(fp)\nmovw $1,208(fp)\n\
             movw 168(fp),216(fp)\nlea 176(fp),224(fp)\nalt 200(fp),160(fp)",
            SEGV,
        ),
        (
            "a built-in's int result over a pointer",
            "frame $2,400(fp)\nmovp 16(mp),64(400(fp))\nmovw $1,72(400(fp))\nlea 96(fp),32(400(fp))\n\
             mcall 400(fp),$0,8(mp)",
            SEGV,
        ),
        (
            "a word result over the caller's pointer",
            "frame $2,200(fp)\nlea 96(fp),32(200(fp))\ncall 200(fp),$<f>\nret\n<f>:\nmovw $1,0(32(fp))",
            SEGV,
        ),
        (
            "a pointer result into the caller's word",
            "frame $2,200(fp)\nlea 160(fp),32(200(fp))\ncall 200(fp),$<f>\nret\n<f>:\nmovp 16(mp),0(32(fp))",
            SEGV,
        ),
        (
            "a result past the caller's frame",
            "frame $2,200(fp)\nlea 392(fp),32(200(fp))\ncall 200(fp),$<f>\nret\n<f>:\nmovw $1,128(32(fp))",
            SEGV,
        ),
        ("a result address set by the first frame", "lea 96(fp),32(fp)\nmovw $1,0(32(fp))", SEGV),
        (
            // The caller lends a plain word; the second time (a native call
            // once f is compiled), f replaces the address before writing
            // through it.
            "a lent result address replaced by the callee",
            "frame $2,200(fp)\nmovw $0,72(200(fp))\nlea 160(fp),32(200(fp))\ncall 200(fp),$<f>\n\
             frame $2,200(fp)\nmovw $1,72(200(fp))\nlea 160(fp),32(200(fp))\ncall 200(fp),$<f>\nret\n\
             <f>:\nbeqw $0,72(fp),$<w>\nmovw $1234567,32(fp)\n<w>:\nmovw $1,0(32(fp))\nret",
            SEGV,
        ),
        (
            // f writes a word at 72, plain in type 2, a pointer in type 3.
            "a call in a frame of another type",
            "frame $2,160(fp)\nframe $3,168(fp)\nmovw 168(fp),160(fp)\ncall 160(fp),$<f>\nret\n<f>:\nmovw $1,72(fp)",
            FRAME,
        ),
        ("an array's length of a string", "lena 16(mp),160(fp)", SEGV),
        ("a string indexed as an array", "indw 16(mp),160(fp),$0", SEGV),
        ("a string's length of an array", "newa $2,$5,96(fp)\nlenc 96(fp),160(fp)", SEGV),
        ("a string's tail", "tail 16(mp),96(fp)", SEGV),
        ("a string's head", "headw 16(mp),160(fp)", SEGV),
        ("a string as a channel", "send 160(fp),16(mp)", SEGV),
        ("a pointer from a list of ints", "movw $5,160(fp)\nconsw 160(fp),96(fp)\nheadp 96(fp),104(fp)", SEGV),
        ("a word from a one-byte head", "consm 160(fp),$1,96(fp)\nheadw 96(fp),168(fp)", SEGV),
        ("a record without a name raised", "new $5,96(fp)\nraise 96(fp)", SEGV),
        (
            "an int printed with %s",
            "frame $2,400(fp)\nmovp 24(mp),64(400(fp))\nmovw $1234567,72(400(fp))\nlea 408(fp),32(400(fp))\n\
             mcall 400(fp),$0,8(mp)",
            SEGV,
        ),
        ("recv past the frame", "newcm $4096,96(fp)\nmovw $1234567,160(fp)\nrecv 96(fp),392(fp)", SEGV),
        // A loop indexes the array in a slot, then puts a shorter array
        // there: inline, by the runtime, by a callee given the slot for its
        // result. The next index is out of bounds.
        (
            "a byte over an element's pointer inside a loop",
            "newa $2,$0,96(fp)\nmovw $0,160(fp)\n<loop>:\nindb 96(fp),168(fp),160(fp)\nmovb $1,0(168(fp))\n\
             addw $1,160(fp)\nbltw 160(fp),$2,$<loop>",
            SEGV,
        ),
        (
            "a word over an element's pointer inside a loop",
            "newa $2,$0,96(fp)\nmovw $0,160(fp)\n<loop>:\nindw 96(fp),168(fp),160(fp)\nmovw $1,0(168(fp))\n\
             addw $1,160(fp)\nbltw 160(fp),$2,$<loop>",
            SEGV,
        ),
        (
            "past a byte array inside a loop",
            "newa $2,$5,96(fp)\nmovw $0,160(fp)\n<loop>:\nindb 96(fp),168(fp),160(fp)\nmovb $1,0(168(fp))\n\
             addw $1,160(fp)\nbltw 160(fp),$3,$<loop>",
            BOUNDS,
        ),
        (
            "an array slot rewritten inside a loop",
            "newa $3,$5,96(fp)\nnewa $1,$5,104(fp)\nmovw $0,160(fp)\n<loop>:\nindw 96(fp),168(fp),160(fp)\n\
             movw $7,0(168(fp))\nmovp 104(fp),96(fp)\naddw $1,160(fp)\nbltw 160(fp),$3,$<loop>",
            BOUNDS,
        ),
        (
            "an array slot sliced inside a loop",
            "newa $3,$5,96(fp)\nmovw $0,160(fp)\n<loop>:\nindw 96(fp),168(fp),160(fp)\n\
             movw $7,0(168(fp))\nslicea $0,$1,96(fp)\naddw $1,160(fp)\nbltw 160(fp),$3,$<loop>",
            BOUNDS,
        ),
        (
            "an array slot replaced by a callee's result inside a loop",
            "newa $3,$5,96(fp)\nmovw $0,160(fp)\n<loop>:\nindw 96(fp),168(fp),160(fp)\n\
             movw $7,0(168(fp))\nframe $2,200(fp)\nlea 96(fp),32(200(fp))\ncall 200(fp),$<f>\n\
             addw $1,160(fp)\nbltw 160(fp),$3,$<loop>\nret\n<f>:\nnewa $1,$5,0(32(fp))",
            BOUNDS,
        ),
        (
            "a case table's count rewritten past module data",
            "movl 48(mp),32(mp)\ncase 160(fp),32(mp)\n<d>:\n--\nmp 56 f0\nword @mp+32,0,<d>\nlong @mp+48,1000",
            PC,
        ),
        (
            "a case table's count rewritten past the address space",
            "movl 48(mp),32(mp)\ncase 160(fp),32(mp)\n<d>:\n--\nmp 56 f0\nword @mp+32,0,<d>\nlong @mp+48,9223372036854775807",
            PC,
        ),
        (
            "an array in a casec table",
            "newa $2,$5,96(fp)\nmovp 96(fp),40(mp)\ncasec 16(mp),32(mp)\n<d>:\n--\n\
             mp 72 f6\nword @mp+32,1\nstring @mp+40,\"a\"\nword @mp+56,<d>,<d>",
            SEGV,
        ),
    ]
}

/// Runs every case as an [`ops_program`](super::ops_program) with `run`,
/// which returns its outcome; fails with the cases that went otherwise.
pub fn check(run: impl Fn(&str) -> vm::Outcome) {
    let mut bad = Vec::new();
    for (what, body, want) in cases() {
        let (body, extra) = body.split_once("\n--\n").unwrap_or((body, ""));
        let outcome = run(&super::ops_program(body, extra));
        if outcome != vm::Outcome::Broken(want.to_string()) {
            bad.push(format!("{what}: {outcome:?}, want {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
