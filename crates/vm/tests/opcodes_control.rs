//! Control flow: jump tables, calls within and between modules, threads,
//! channels and alternation, exceptions and their handlers, exit.

mod common;

use common::{ops, ops_nums, ops_raise, ops_with, run_ops};
use vm::Outcome;

#[test]
fn case_on_words_with_ranges_and_a_default() {
    // [0,1) -> a, [2,5) -> b, [10,11) -> c, default d: ranges are [lo, hi).
    let table = "mp 96 f0\nword @mp+32,3,0,1,$<a>,2,5,$<b>,10,11,$<c>,$<d>".replace('$', "");
    let mut body = String::new();
    for (k, v) in [-1i64, 0, 1, 2, 4, 5, 10, 11, 1 << 40].iter().enumerate() {
        if *v == 1 << 40 {
            body += "movw\t208(mp),160(fp)\n";
        } else {
            body += &format!("movw\t${v},160(fp)\n");
        }
        body += &format!("movw\t${k},168(fp)\njmp\t$<go>\n<r{k}>:\n");
    }
    body += "ret\n<go>:\ncase\t160(fp),32(mp)\n<a>:\nprint.w\t$1\njmp\t$<back>\n<b>:\nprint.w\t$2\njmp\t$<back>\n\
             <c>:\nprint.w\t$3\njmp\t$<back>\n<d>:\nprint.w\t$0\n<back>:\n";
    // Return to the pc after each probe through a goto table.
    body += "goto\t168(fp),128(mp)\n";
    let mut data = table.replace("mp 96 f0", "mp 216 f0");
    data += &format!("\nlong @mp+208,{}\nword @mp+120,9", 1i64 << 40);
    for k in 0..9 {
        data += &format!("\nword @mp+{},<r{k}>", 128 + 8 * k);
    }
    assert_eq!(ops_with(&body, &data), "0\n1\n0\n2\n2\n0\n3\n0\n0\n");
}

#[test]
fn case_on_bigs() {
    // casel: count (padded to 16 bytes), then lo, hi, pc, pad; default.
    let v = [0i64, 1 << 40, (1 << 40) + 1, -1, 5, i64::MIN];
    for (x, want) in v.iter().zip([0, 1, 0, 2, 0, 0]) {
        let data = format!(
            "mp 136 f0\nlong @mp+32,2,0,-5,0,<b>,0,{},{},<a>,0,<d>\nlong @mp+120,{x}",
            1i64 << 40,
            (1i64 << 40) + 1
        );
        let body = "casel\t120(mp),32(mp)\n<a>:\nprint.w\t$1\nret\n<b>:\nprint.w\t$2\nret\n<d>:\nprint.w\t$0";
        assert_eq!(ops_with(body, &data), format!("{want}\n"), "{x}");
    }
}

#[test]
fn case_on_strings() {
    // casec: count, then (lo, hi or nil, pc) triples sorted, then default.
    // Entries: "a" -> 1, "c".."m" -> 2, "x" -> 3, "é" -> 4.
    for (s, want) in
        [("", 0), ("a", 1), ("b", 0), ("c", 2), ("k", 2), ("m", 2), ("n", 0), ("x", 3), ("é", 4), ("zz", 0)]
    {
        let data = format!(
            "mp 200 {}\nword @mp+32,4\nstring @mp+40,\"a\"\nword @mp+56,<p1>\nstring @mp+64,\"c\"\nstring @mp+72,\"m\"\n\
             word @mp+80,<p2>\nstring @mp+88,\"x\"\nword @mp+104,<p3>\nstring @mp+112,\"é\"\nword @mp+128,<p4>\n\
             word @mp+136,<p0>{}",
            "f6db20",
            if s.is_empty() { String::new() } else { format!("\nstring @mp+144,\"{s}\"") }
        );
        let body = "casec\t144(mp),32(mp)\n<p0>:\nprint.w\t$0\nret\n<p1>:\nprint.w\t$1\nret\n<p2>:\nprint.w\t$2\nret\n\
                    <p3>:\nprint.w\t$3\nret\n<p4>:\nprint.w\t$4";
        assert_eq!(ops_with(body, &data), format!("{want}\n"), "{s:?}");
    }
}

#[test]
fn goto_through_a_table() {
    for (k, want) in [(0, "a"), (1, "b"), (2, "c")] {
        let body =
            format!("goto\t${k},40(mp)\n<a>:\nprint.w\t$1\nret\n<b>:\nprint.w\t$2\nret\n<c>:\nprint.w\t$3");
        let data = "mp 72 f0\nword @mp+32,3,<a>,<b>,<c>";
        let out = ops_with(&body, data);
        assert_eq!(out, format!("{}\n", want.as_bytes()[0] - b'a' + 1));
    }
}

/// A function at label `f` doubling its argument at 64 into the result.
const DOUBLE: &str = "<f>:\nmulw\t$2,64(fp),0(32(fp))\nret";
const FRAME6: &str = "desc $6,80,\"\"";

#[test]
fn frame_call_and_ret() {
    let out = ops_with(
        &format!(
            "frame\t$6,160(fp)\nmovw\t$21,64(160(fp))\nlea\t168(fp),32(160(fp))\ncall\t160(fp),$<f>\nprint.w\t168(fp)\nret\n{DOUBLE}"
        ),
        FRAME6,
    );
    assert_eq!(out, "42\n");
    // Recursion: sum of 1..n.
    let sum = "frame\t$7,160(fp)\nmovw\t$100,64(160(fp))\nlea\t168(fp),32(160(fp))\ncall\t160(fp),$<s>\nprint.w\t168(fp)\nret\n\
               <s>:\nbnew\t64(fp),$0,$<more>\nmovw\t$0,0(32(fp))\nret\n<more>:\nframe\t$7,72(fp)\nsubw\t$1,64(fp),64(72(fp))\n\
               lea\t80(fp),32(72(fp))\ncall\t72(fp),$<s>\naddw\t64(fp),80(fp),0(32(fp))\nret";
    assert_eq!(ops_with(sum, "desc $6,80,\"\"\ndesc $7,88,\"\""), "5050\n");
}

const LINKS: &str = "desc $6,80,\"\"\nlink 6,<f>,0x1234,\"f\"";

#[test]
fn module_frames_and_calls_through_self() {
    let out = ops_with(
        &format!(
            "self\t96(fp)\nmframe\t96(fp),$-2,160(fp)\nmovw\t$7,64(160(fp))\nlea\t168(fp),32(160(fp))\n\
             mcall\t160(fp),$-2,96(fp)\nprint.w\t168(fp)\nret\n{DOUBLE}"
        ),
        LINKS,
    );
    assert_eq!(out, "14\n");
    assert_eq!(ops_raise("mframe\t96(fp),$0,160(fp)", ""), "module not loaded");
    // An object of another kind (here the format string) is no module link.
    assert_eq!(ops_raise("mframe\t16(mp),$0,160(fp)", ""), "module not loaded");
    let nil_call =
        format!("self\t104(fp)\nmframe\t104(fp),$-2,160(fp)\nmcall\t160(fp),$-2,96(fp)\nret\n{DOUBLE}");
    assert_eq!(run_ops(&nil_call, LINKS).1, Outcome::Broken("module not loaded".into()));
}

#[test]
fn load_of_self_and_of_a_missing_module() {
    let extra = format!("{LINKS}\nmp 48 f8\nstring @mp+32,\"$self\"\nldt 1\next 0x1234,\"f\"");
    let out = ops_with(
        &format!(
            "load\t32(mp),$1,96(fp)\nmframe\t96(fp),$0,160(fp)\nmovw\t$8,64(160(fp))\nlea\t168(fp),32(160(fp))\n\
             mcall\t160(fp),$0,96(fp)\nprint.w\t168(fp)\nret\n{DOUBLE}"
        ),
        &extra,
    );
    assert_eq!(out, "16\n");
    // A module that is not there loads as nil.
    let extra = format!("{LINKS}\nmp 48 f8\nstring @mp+32,\"/no/such/module.dis\"\nldt 1\next 0x1234,\"f\"");
    let out = ops_with(
        &format!("load\t32(mp),$1,96(fp)\nmovw\t$1,160(fp)\nbeqw\t96(fp),$0,$<nil>\nmovw\t$0,160(fp)\n<nil>:\nprint.w\t160(fp)\nret\n{DOUBLE}"),
        &extra,
    );
    assert_eq!(out, "1\n");
}

/// A frame entered through a module link holds its caller's link until it
/// returns: the collector must see it, and a thread that ends there
/// (run_ops checks that nothing leaks) must drop it.
#[test]
fn a_module_call_holds_its_callers_module() {
    // Its callee allocates enough to collect, and waits for the collector.
    let big = "<f>:\nnewa\t$2100000,$5,72(fp)\nmovw\t$3000,80(fp)\n<spin>:\nsubw\t$1,80(fp)\nbgtw\t80(fp),$0,$<spin>\n\
               mulw\t$2,64(fp),0(32(fp))\nret";
    let extra = "desc $6,96,\"0040\"\nlink 6,<f>,0x1234,\"f\"\nmp 48 f8\nstring @mp+32,\"$self\"\nldt 1\next 0x1234,\"f\"";
    let out = ops_with(
        &format!(
            "load\t32(mp),$1,96(fp)\nmframe\t96(fp),$0,160(fp)\nmovw\t$8,64(160(fp))\nlea\t168(fp),32(160(fp))\n\
             mcall\t160(fp),$0,96(fp)\nprint.w\t168(fp)\nprint.s\t32(mp)\nret\n{big}"
        ),
        extra,
    );
    assert_eq!(out, "16\n$self\n");
    let call = "self\t96(fp)\nmframe\t96(fp),$-2,160(fp)\nmcall\t160(fp),$-2,96(fp)\nret\n<f>:\n";
    let dies = format!("{call}movw\t$0,64(fp)\ndivw\t64(fp),$1,72(fp)\nret");
    assert_eq!(run_ops(&dies, LINKS).1, Outcome::Broken("zero divide".into()));
    assert_eq!(run_ops(&format!("{call}exit"), LINKS).1, Outcome::Done);
}

/// A thread at label `g` (frame type 1) that receives a word on the
/// channel at 96, triples it and sends it back.
const TRIPLE: &str = "<g>:\nrecv\t96(fp),160(fp)\nmulw\t$3,160(fp)\nsend\t160(fp),96(fp)\nret";

#[test]
fn spawn_and_mspawn_threads() {
    let body = format!(
        "newcw\t96(fp)\nframe\t$1,200(fp)\nmovp\t96(fp),96(200(fp))\nspawn\t200(fp),$<g>\n\
         movw\t$5,160(fp)\nsend\t160(fp),96(fp)\nrecv\t96(fp),168(fp)\nprint.w\t168(fp)\nret\n{TRIPLE}"
    );
    assert_eq!(ops(&body), "15\n");
    let body = format!(
        "newcw\t96(fp)\nself\t104(fp)\nmframe\t104(fp),$-2,200(fp)\nmovp\t96(fp),96(200(fp))\nmspawn\t200(fp),$-2,104(fp)\n\
         movw\t$6,160(fp)\nsend\t160(fp),96(fp)\nrecv\t96(fp),168(fp)\nprint.w\t168(fp)\nret\n{TRIPLE}"
    );
    assert_eq!(ops_with(&body, "link 1,<g>,0x99,\"g\""), "18\n");
    // A built-in function cannot be a thread.
    assert_eq!(ops_raise("mframe\t8(mp),$0,200(fp)\nmspawn\t200(fp),$0,8(mp)", ""), "spawn a builtin module");
    assert_eq!(ops_raise("mspawn\t200(fp),$0,96(fp)", ""), "module not loaded");
}

/// Sends one value of each kind through a channel and back: buffered in
/// one thread, and unbuffered to a thread that echoes it.
#[test]
fn channels_of_every_element_type() {
    let kinds = [
        ("newcb", "cvtwb\t$200,88(fp)", "cvtbw\t88(fp),160(fp)\nprint.w\t160(fp)", "200"),
        ("newcw", "movw\t$-9,88(fp)", "print.w\t88(fp)", "-9"),
        ("newcl", "cvtwl\t$-10,88(fp)", "print.l\t88(fp)", "-10"),
        ("newcf", "cvtwf\t$11,88(fp)", "cvtfw\t88(fp),160(fp)\nprint.w\t160(fp)", "11"),
        ("newcp", "movp\t32(mp),104(fp)", "print.s\t104(fp)", "ptr"),
        ("newcm\t$16,", "movw\t$12,160(fp)", "print.w\t160(fp)", "12"),
        (
            "newcmp\t$4,",
            "movw\t$13,88(fp)\nmovp\t32(mp),96(fp)",
            "print.w\t88(fp)\nprint.s\t96(fp)",
            "13\nptr",
        ),
    ];
    let data = "mp 40 f8\nstring @mp+32,\"ptr\"";
    for (make, set, show, want) in kinds {
        // The value lives at 88 (plain) and 96 (a pointer): records of
        // type 4 fit there; a pointer is sent from 104, plain blocks from
        // 160 (a block must not land on pointers).
        let at = match make {
            "newcp" => "104(fp)",
            "newcm\t$16," => "160(fp)",
            _ => "88(fp)",
        };
        let (mk_buf, mk) = if make.ends_with(',') {
            (format!("{make}$1,120(fp)"), format!("{make}120(fp)"))
        } else {
            (format!("{make}\t$1,120(fp)"), format!("{make}\t120(fp)"))
        };
        let clear = "movw\t$0,88(fp)\nmovp\t112(fp),96(fp)\nmovp\t112(fp),104(fp)";
        let buffered = format!("{mk_buf}\n{set}\nsend\t{at},120(fp)\n{clear}\nrecv\t120(fp),{at}\n{show}");
        assert_eq!(ops_with(&buffered, data), format!("{want}\n"), "{make} buffered");
        let echo = format!(
            "{mk}\nframe\t$1,200(fp)\nmovp\t120(fp),120(200(fp))\nspawn\t200(fp),$<e>\n{set}\nsend\t{at},120(fp)\n{clear}\n\
             recv\t120(fp),{at}\n{show}\nret\n<e>:\nrecv\t120(fp),{at}\nsend\t{at},120(fp)\nret"
        );
        assert_eq!(ops_with(&echo, data), format!("{want}\n"), "{make} unbuffered");
    }
    for make in
        ["newcb\t$-1,120(fp)", "newcw\t$-1,120(fp)", "newcm\t$8,$-1,120(fp)", "newcmp\t$4,$-1,120(fp)"]
    {
        assert_eq!(ops_raise(make, ""), "negative array size", "{make}");
    }
    assert_eq!(ops_raise("send\t$1,96(fp)", ""), "dereference of nil");
    assert_eq!(ops_raise("recv\t96(fp),160(fp)", ""), "dereference of nil");
    // A buffered channel keeps order and blocks the sender when full: the
    // main thread alone then deadlocks.
    let out =
        ops("newcw\t$2,96(fp)\nsend\t$1,96(fp)\nsend\t$2,96(fp)\nrecv\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         send\t$3,96(fp)\nrecv\t96(fp),160(fp)\nprint.w\t160(fp)\nrecv\t96(fp),160(fp)\nprint.w\t160(fp)");
    assert_eq!(out, "1\n2\n3\n");
    assert_eq!(run_ops("newcw\t$1,96(fp)\nsend\t$1,96(fp)\nsend\t$2,96(fp)", "").1, Outcome::Deadlock);
}

/// An alt block at 224: two sends then two receives would be
/// `nsend, nrecv, (chan, ptr)...`; here no sends and two receives.
fn alt_block(first: &str, second: &str) -> String {
    format!(
        "movw\t$0,224(fp)\nmovw\t$2,232(fp)\nmovw\t{first},240(fp)\nlea\t160(fp),248(fp)\n\
         movw\t{second},256(fp)\nlea\t168(fp),264(fp)\n"
    )
}

#[test]
fn alt_and_nbalt_pick_a_ready_channel() {
    let setup = "newcw\t$1,96(fp)\nnewcw\t$1,104(fp)\n";
    // Nothing ready: nbalt answers the count of channels.
    let out = ops_nums(&format!(
        "{setup}{}nbalt\t224(fp),176(fp)\nprint.w\t176(fp)",
        alt_block("96(fp)", "104(fp)")
    ));
    assert_eq!(out, [2]);
    // The second channel ready: both pick it (index 1) and receive its value.
    let ready = format!("{setup}send\t$7,104(fp)\n{}", alt_block("96(fp)", "104(fp)"));
    assert_eq!(
        ops_nums(&format!("{ready}nbalt\t224(fp),176(fp)\nprint.w\t176(fp)\nprint.w\t168(fp)")),
        [1, 7]
    );
    assert_eq!(ops_nums(&format!("{ready}alt\t224(fp),176(fp)\nprint.w\t176(fp)\nprint.w\t168(fp)")), [1, 7]);
    // A send arm: one send, no receives, to a buffered channel with room.
    let send = format!(
        "{setup}movw\t$1,224(fp)\nmovw\t$0,232(fp)\nmovw\t96(fp),240(fp)\nmovw\t$8,160(fp)\nlea\t160(fp),248(fp)\n\
         alt\t224(fp),176(fp)\nprint.w\t176(fp)\nrecv\t96(fp),168(fp)\nprint.w\t168(fp)"
    );
    assert_eq!(ops_nums(&send), [0, 8]);
    // alt blocks until another thread sends.
    let blocking = format!(
        "newcw\t96(fp)\nnewcw\t104(fp)\nframe\t$1,200(fp)\nmovp\t104(fp),96(200(fp))\nspawn\t200(fp),$<g>\n{}\
         alt\t224(fp),176(fp)\nprint.w\t176(fp)\nprint.w\t168(fp)\nret\n<g>:\nsend\t$9,96(fp)\nret",
        alt_block("96(fp)", "104(fp)")
    );
    assert_eq!(ops_nums(&blocking), [1, 9]);
}

/// Handlers: `exception pc1, pc2, eoff, desc, ncases, ne` then the cases.
#[test]
fn raise_and_handlers() {
    let handlers = "exceptions 1\nexception <t0>,<t1>,104,-1,2,0\nexctab \"exact\",<h1>\nexctab \"pre*\",<h2>\nexctab *,<h3>";
    let body = |raise: &str| {
        format!(
            "<t0>:\n{raise}\nprint.w\t$0\n<t1>:\nret\n<h1>:\nprint.w\t$1\nprint.s\t104(fp)\nret\n\
             <h2>:\nprint.w\t$2\nprint.s\t104(fp)\nret\n<h3>:\nprint.w\t$3\nprint.s\t104(fp)\neclr\nret"
        )
    };
    let data = |s: &str| format!("{handlers}\nmp 40 f8\nstring @mp+32,\"{s}\"");
    assert_eq!(ops_with(&body("raise\t32(mp)"), &data("exact")), "1\nexact\n");
    assert_eq!(ops_with(&body("raise\t32(mp)"), &data("prefix")), "2\nprefix\n");
    assert_eq!(ops_with(&body("raise\t32(mp)"), &data("other")), "3\nother\n");
    // Runtime errors are exceptions too.
    assert_eq!(ops_with(&body("movw\t$0,160(fp)\ndivw\t160(fp),$1,168(fp)"), &data("x")), "3\nzero divide\n");
    assert_eq!(ops_with(&body("indc\t96(fp),$0,160(fp)"), &data("x")), "3\ndereference of nil\n");
    // Raised in a called function, caught by the caller's handler.
    let nested =
        "<t0>:\nframe\t$6,160(fp)\ncall\t160(fp),$<r>\nprint.w\t$0\n<t1>:\nret\n<h1>:\nprint.w\t$1\nret\n\
                  <h2>:\nprint.w\t$2\nret\n<h3>:\nprint.s\t104(fp)\nret\n<r>:\nraise\t32(mp)\nret";
    assert_eq!(ops_with(nested, &format!("{}\ndesc $6,80,\"\"", data("deep"))), "deep\n");
    // Uncaught, the thread dies of it; raising nil is a nil dereference.
    let (out, o) = run_ops("raise\t32(mp)", "mp 40 f8\nstring @mp+32,\"fail:oops\"");
    assert_eq!((out.as_str(), o), ("", Outcome::Broken("fail:oops".into())));
    assert_eq!(ops_raise("raise\t96(fp)", ""), "dereference of nil");
}

#[test]
fn a_dying_thread_leaves_the_others_running() {
    let body = "newcw\t96(fp)\nframe\t$1,200(fp)\nmovp\t96(fp),96(200(fp))\nspawn\t200(fp),$<g>\nrecv\t96(fp),160(fp)\n\
                print.w\t160(fp)\nret\n<g>:\nsend\t$4,96(fp)\nmovw\t$0,160(fp)\ndivw\t160(fp),$1,160(fp)\nret";
    assert_eq!(ops(body), "4\n");
}

#[test]
fn exit_nop_and_runt() {
    assert_eq!(
        ops("nop\nruntime\nprint.w\t$1\nexit\nprint.w\t$2".replace("runtime", "runt").as_str()),
        "1\n"
    );
    // exit in a called function ends the thread too.
    let body = "frame\t$6,160(fp)\ncall\t160(fp),$<f>\nprint.w\t$2\nret\n<f>:\nprint.w\t$1\nexit";
    let (out, o) = run_ops(body, FRAME6.replace("80", "512").replace("\"\"", "\"00cff0\"").as_str());
    assert_eq!((out.as_str(), o), ("1\n", Outcome::Done));
}
