//! Instructions the fixture programs do not use, each run in a small
//! program: the body leaves its result in the word at 72(fp), which the
//! program prints with `%bd`.
//!
//! Frame type 1 is 256 bytes with pointer slots at 96, 104, 112 and 120
//! (200 holds the callee frame of the print); the words at 72, 80, 88 and
//! 128 to 192 are plain. Type 4 is a
//! two-word record whose second word is a pointer.

mod common;

use common::run_asm;
use vm::Outcome;

fn program(body: &str) -> String {
    format!(
        "\tflags\thasldt\n\tstack\t1024\n\
         \tload\t0(mp),$0,8(mp)\n\
         {body}\n\
         \tframe\t$2,200(fp)\n\
         \tmovp\t16(mp),64(200(fp))\n\
         \tmovw\t72(fp),72(200(fp))\n\
         \tlea\t208(fp),32(200(fp))\n\
         \tmcall\t200(fp),$0,8(mp)\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,24,\"e0\"\n\
         \tdesc\t$1,256,\"000f\"\n\
         \tdesc\t$2,80,\"0080\"\n\
         \tdesc\t$3,80,\"\"\n\
         \tdesc\t$4,16,\"40\"\n\
         \tvar\t@mp,24\n\
         \tstring\t@mp+0,\"$Sys\"\n\
         \tstring\t@mp+16,\"%bd\\n\"\n\
         \tmodule\tOps\n\
         \tlink\t1,0,0x4244b354,\"init\"\n\
         \tldt\t1\n\
         \text\t0xac849033,\"print\"\n"
    )
}

/// Runs `body` and returns the value it left at 72(fp).
fn eval(body: &str) -> i64 {
    let (out, outcome, _) = run_asm(&program(body), &[]);
    assert_eq!(outcome, Outcome::Done, "{body}");
    out.trim().parse().unwrap_or_else(|_| panic!("{body}: printed {out:?}"))
}

/// Runs `body` and returns the exception it died of.
fn raises(body: &str) -> String {
    match run_asm(&program(body), &[]).1 {
        Outcome::Broken(msg) => msg,
        o => panic!("{body}: {o:?}"),
    }
}

#[test]
fn byte_branches_compare_unsigned() {
    // The branch is at pc 4 (after `load` and three instructions).
    let b = |op: &str, x: i64, y: i64| {
        eval(&format!(
            "\tmovw\t$0,72(fp)\n\tcvtwb\t${x},128(fp)\n\tcvtwb\t${y},136(fp)\n\t{op}\t128(fp),136(fp),$6\n\tjmp\t$7\n\tmovw\t$1,72(fp)"
        ))
    };
    assert_eq!(b("bltb", 1, 200), 1);
    assert_eq!(b("bltb", 200, 1), 0);
    assert_eq!(b("bgtb", 200, 1), 1);
    assert_eq!(b("bgtb", 1, 1), 0);
}

#[test]
fn string_branches_compare_runes() {
    let c = |op: &str, x: &str, y: &str| {
        eval(&format!(
            "\tmovw\t$0,72(fp)\n\tcvtwc\t${x},96(fp)\n\tcvtwc\t${y},104(fp)\n\t{op}\t96(fp),104(fp),$6\n\tjmp\t$7\n\tmovw\t$1,72(fp)"
        ))
    };
    // "10" < "9" as strings.
    assert_eq!(c("bltc", "10", "9"), 1);
    assert_eq!(c("beqc", "42", "42"), 1);
    assert_eq!(c("beqc", "42", "43"), 0);
    assert_eq!(c("blec", "42", "42"), 1);
    assert_eq!(c("bgtc", "9", "10"), 1);
}

#[test]
fn conversions_of_small_types() {
    // 16-bit words sign-extend; 32-bit reals round to nearest.
    assert_eq!(eval("\tcvtws\t$70000,128(fp)\n\tcvtsw\t128(fp),72(fp)"), 70000 - 65536);
    assert_eq!(eval("\tcvtws\t$-2,128(fp)\n\tcvtsw\t128(fp),72(fp)"), -2);
    assert_eq!(eval("\tcvtwf\t$16777217,128(fp)\n\tcvtfr\t128(fp),136(fp)\n\tcvtrf\t136(fp),144(fp)\n\tcvtfw\t144(fp),72(fp)"), 16777216);
    assert_eq!(
        eval(
            "\tcvtwl\t$5,128(fp)\n\tcvtlf\t128(fp),136(fp)\n\tmulf\t136(fp),136(fp)\n\tcvtfw\t136(fp),72(fp)"
        ),
        25
    );
}

#[test]
fn logical_shifts_fill_with_zeros() {
    assert_eq!(eval("\tlsrw\t$60,$-1,72(fp)"), 15);
    assert_eq!(eval("\tcvtwl\t$-1,128(fp)\n\tlsrl\t$63,128(fp),72(fp)"), 1);
    // Counts use their low six bits.
    assert_eq!(eval("\tlsrw\t$64,$-1,72(fp)"), -1);
}

#[test]
fn exponentiation() {
    assert_eq!(eval("\texpw\t$10,$3,72(fp)"), 59049);
    assert_eq!(eval("\tcvtwl\t$2,128(fp)\n\texpl\t$62,128(fp),72(fp)"), 1 << 62);
    assert_eq!(eval("\texpw\t$-1,$2,72(fp)"), 0);
    assert_eq!(eval("\texpw\t$-1,$-1,72(fp)"), -1);
    // 0 ** -1 is 0, as in Inferno (whose 1/0 there compiles to no division).
    assert_eq!(eval("\texpw\t$-1,$0,72(fp)"), 0);
    assert_eq!(eval("\tcvtwf\t$2,128(fp)\n\texpf\t$-2,128(fp),136(fp)\n\tmulf\t136(fp),136(fp)\n\tcvtwf\t$1000,144(fp)\n\tmulf\t144(fp),136(fp)\n\tcvtfw\t136(fp),72(fp)"), 63);
}

#[test]
fn control_and_no_ops() {
    assert_eq!(eval("\tnop\n\truntime\n\tmovw\t$3,72(fp)".replace("runtime", "runt").as_str()), 3);
    assert_eq!(eval("\tmovpc\t$2,72(fp)"), 2);
    assert_eq!(eval("\teclr\n\tmovw\t$4,72(fp)"), 4);
    // exit ends the thread quietly: nothing printed.
    let (out, outcome, _) = run_asm(&program("\texit"), &[]);
    assert_eq!((out.as_str(), outcome), ("", Outcome::Done));
}

#[test]
fn allocation_zeroes_and_types() {
    // newz and mnewz give zeroed records; the record's word reads 0.
    assert_eq!(eval("\tnewz\t$4,96(fp)\n\tmovw\t0(96(fp)),72(fp)"), 0);
    assert_eq!(eval("\tnewaz\t$3,$4,96(fp)\n\tlena\t96(fp),72(fp)"), 3);
    assert_eq!(eval("\tnewaz\t$3,$4,96(fp)\n\tindw\t96(fp),128(fp),$2\n\tmovw\t0(128(fp)),72(fp)"), 0);
    assert_eq!(eval("\tself\t96(fp)\n\tmovw\t$1,72(fp)\n\tbnew\t96(fp),$0,$5\n\tmovw\t$0,72(fp)"), 1);
    // tcmp: same type passes; different types raise.
    assert_eq!(eval("\tnew\t$4,96(fp)\n\tnew\t$4,104(fp)\n\ttcmp\t96(fp),104(fp)\n\tmovw\t$7,72(fp)"), 7);
    assert_eq!(raises("\tnew\t$4,96(fp)\n\tnew\t$3,104(fp)\n\ttcmp\t96(fp),104(fp)"), "type check");
}

#[test]
fn channels_of_every_element_type() {
    // A buffered channel of each kind carries one value through.
    for (make, send, recv) in [
        ("newcb\t$1", "cvtwb\t$200,128(fp)", "cvtbw\t136(fp),72(fp)"),
        ("newcl\t$1", "cvtwl\t$200,128(fp)", "movl\t136(fp),72(fp)"),
        ("newcf\t$1", "cvtwf\t$200,128(fp)", "cvtfw\t136(fp),72(fp)"),
    ] {
        let body =
            format!("\t{make},96(fp)\n\t{send}\n\tsend\t128(fp),96(fp)\n\trecv\t96(fp),136(fp)\n\t{recv}");
        assert_eq!(eval(&body), 200, "{make}");
    }
    // Channels of records (with and without pointers) carry the record.
    assert_eq!(
        eval("\tnewcm\t$16,$1,96(fp)\n\tmovw\t$9,128(fp)\n\tsend\t128(fp),96(fp)\n\trecv\t96(fp),144(fp)\n\tmovw\t144(fp),72(fp)"),
        9
    );
    assert_eq!(
        // Its record goes from and to 88 (plain) and 96 (a pointer).
        eval("\tnewcmp\t$4,$1,120(fp)\n\tmovw\t$11,88(fp)\n\tsend\t88(fp),120(fp)\n\tmovw\t$0,88(fp)\n\trecv\t120(fp),88(fp)\n\tmovw\t88(fp),72(fp)"),
        11
    );
}

#[test]
fn list_heads_of_records() {
    // consm puts a 16-byte record in front of a list; headm copies it out.
    assert_eq!(
        eval("\tmovw\t$21,128(fp)\n\tconsm\t128(fp),$16,96(fp)\n\theadm\t96(fp),$16,144(fp)\n\tmovw\t144(fp),72(fp)"),
        21
    );
    assert_eq!(raises("\theadm\t96(fp),$16,144(fp)"), "dereference of nil");
}

#[test]
fn array_word_indexing() {
    assert_eq!(eval("\tnewa\t$4,$3,96(fp)\n\tindw\t96(fp),128(fp),$3\n\tmovw\t$5,0(128(fp))\n\tmovw\t0(128(fp)),72(fp)"), 5);
    assert_eq!(raises("\tnewa\t$4,$3,96(fp)\n\tindw\t96(fp),128(fp),$4"), "array bounds error");
}

#[test]
fn appending_to_a_string_never_changes_a_shared_one() {
    // s := "12"; t := s; s += "3": t is still "12".
    let shared = "\tcvtwc\t$12,96(fp)\n\tmovp\t96(fp),104(fp)\n\tcvtwc\t$3,112(fp)\n\taddc\t112(fp),96(fp)";
    assert_eq!(eval(&format!("{shared}\n\tcvtcw\t104(fp),72(fp)")), 12);
    assert_eq!(eval(&format!("{shared}\n\tcvtcw\t96(fp),72(fp)")), 123);
    // Unshared, it grows in place: "12" + "3" + "3" + "3".
    let grown = "\tcvtwc\t$12,96(fp)\n\tcvtwc\t$3,112(fp)\n\taddc\t112(fp),96(fp)\n\taddc\t112(fp),96(fp)\n\taddc\t112(fp),96(fp)";
    assert_eq!(eval(&format!("{grown}\n\tcvtcw\t96(fp),72(fp)")), 12333);
}
