//! Strings, arrays, lists, allocation and pointer moves: each opcode's
//! results, bounds and nil errors in Inferno's words, and reference counts
//! (every program must leave no object behind, which `run_ops` checks).

mod common;

use common::{ops, ops_nums, ops_raise, ops_with};

/// Module data with strings at 32, 40, ... (pointer slots).
fn strings(vals: &[&str]) -> String {
    let mut d = format!("mp {} {}", 32 + 8 * vals.len(), map(4 + vals.len()));
    for (k, s) in vals.iter().enumerate() {
        if !s.is_empty() {
            d += &format!("\nstring @mp+{},\"{s}\"", 32 + 8 * k);
        }
    }
    d
}

/// A pointer map whose first `n` words are pointers.
fn map(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(8)];
    for k in 0..n {
        bytes[k / 8] |= 0x80 >> (k % 8);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn string_length_and_indexing() {
    let d = strings(&["héllo", "abc"]);
    let out = ops_with(
        "lenc\t32(mp),160(fp)\nprint.w\t160(fp)\nlenc\t40(mp),160(fp)\nprint.w\t160(fp)\n\
         lenc\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         indc\t32(mp),$1,160(fp)\nprint.w\t160(fp)\nindc\t40(mp),$2,160(fp)\nprint.w\t160(fp)",
        &d,
    );
    assert_eq!(out, "5\n3\n0\n233\n99\n");
    let raise = |body: &str| {
        let (out, o) = common::run_ops(body, &d);
        assert_eq!(out, "");
        match o {
            vm::Outcome::Broken(m) => m,
            o => panic!("{o:?}"),
        }
    };
    assert_eq!(raise("indc\t32(mp),$5,160(fp)"), "array bounds error");
    assert_eq!(raise("indc\t40(mp),$-1,160(fp)"), "array bounds error");
    // Indexing nil is a nil dereference (not a bounds error).
    assert_eq!(raise("indc\t96(fp),$0,160(fp)"), "dereference of nil");
}

/// String data with characters past U+FFFF and a surrogate, decoded as
/// InferNode's loader decodes it (this is emu's output for the module):
/// its UTF-8 stops at three bytes, so each byte of a four-byte sequence is
/// an error rune (0x80), except a last byte too short to be a character,
/// which is left out; a surrogate's three bytes are one rune.
#[test]
fn string_data_past_ffff_decodes_as_inferno_does() {
    let d = strings(&["a\\u{1f600}b", "\\x{ed}\\x{a0}\\x{80}z\\u{10ffff}"]);
    let mut body = String::new();
    for (at, n) in [(32, 6), (40, 5)] {
        body += &format!("lenc\t{at}(mp),160(fp)\nprint.w\t160(fp)\n");
        for i in 0..n {
            body += &format!("indc\t{at}(mp),${i},160(fp)\nprint.w\t160(fp)\n");
        }
    }
    let out = ops_with(&body, &d);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>().join(" "),
        "6 97 128 128 128 128 98 5 55296 122 128 128 128"
    );
}

#[test]
fn string_insertion_grows_at_the_end_only() {
    let out = ops("insc\t$97,$0,96(fp)\ninsc\t$98,$1,96(fp)\ninsc\t$99,$2,96(fp)\nprint.s\t96(fp)\n\
         insc\t$90,$0,96(fp)\nprint.s\t96(fp)\n\
         insc\t$9786,$1,96(fp)\nprint.s\t96(fp)\nlenc\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         insc\t$100,$3,96(fp)\nprint.s\t96(fp)");
    assert_eq!(out, "abc\nZbc\nZ☺c\n3\nZ☺cd\n");
    assert_eq!(ops_raise("insc\t$97,$1,96(fp)", ""), "array bounds error");
    assert_eq!(ops_raise("insc\t$97,$0,96(fp)\ninsc\t$97,$2,96(fp)", ""), "array bounds error");
    assert_eq!(ops_raise("insc\t$97,$0,96(fp)\ninsc\t$97,$-1,96(fp)", ""), "array bounds error");
    // A shared string is copied, never changed under its other holder.
    let out = ops("insc\t$97,$0,96(fp)\ninsc\t$98,$1,96(fp)\nmovp\t96(fp),104(fp)\ninsc\t$122,$0,96(fp)\n\
         print.s\t96(fp)\nprint.s\t104(fp)");
    assert_eq!(out, "zb\nab\n");
}

#[test]
fn string_slices_and_their_bounds() {
    let d = strings(&["héllo"]);
    let out = ops_with(
        "movp\t32(mp),96(fp)\nslicec\t$1,$3,96(fp)\nprint.s\t96(fp)\n\
         movp\t32(mp),104(fp)\nslicec\t$5,$5,104(fp)\nlenc\t104(fp),160(fp)\nprint.w\t160(fp)\n\
         slicec\t$0,$0,112(fp)\nlenc\t112(fp),160(fp)\nprint.w\t160(fp)\n\
         movp\t32(mp),120(fp)\nslicec\t$0,$5,120(fp)\nprint.s\t120(fp)",
        &d,
    );
    assert_eq!(out, "él\n0\n0\nhéllo\n");
    for (from, to) in [(3, 2), (0, 6), (-1, 2), (6, 6)] {
        let body = format!("movp\t32(mp),96(fp)\nslicec\t${from},${to},96(fp)");
        let (_, o) = common::run_ops(&body, &d);
        assert_eq!(o, vm::Outcome::Broken("array bounds error".into()), "{from}:{to}");
    }
    // Slicing nil: [0:0] is nil, anything else out of bounds.
    assert_eq!(ops_raise("slicec\t$0,$1,96(fp)", ""), "array bounds error");
    assert_eq!(ops_raise("slicec\t$1,$1,96(fp)", ""), "array bounds error");
}

#[test]
fn string_concatenation() {
    let d = strings(&["ab", "é", ""]);
    let out = ops_with(
        "addc\t40(mp),32(mp),96(fp)\nprint.s\t96(fp)\n\
         addc\t48(mp),32(mp),104(fp)\nprint.s\t104(fp)\n\
         addc\t32(mp),48(mp),104(fp)\nprint.s\t104(fp)\n\
         addc\t48(mp),48(mp),112(fp)\nlenc\t112(fp),160(fp)\nprint.w\t160(fp)\n\
         movp\t32(mp),120(fp)\naddc\t40(mp),120(fp)\naddc\t32(mp),120(fp)\nprint.s\t120(fp)\n\
         print.s\t32(mp)",
        &d,
    );
    assert_eq!(out, "abé\nab\nab\n0\nabéab\nab\n");
}

#[test]
fn string_and_number_conversions() {
    let d = strings(&[
        "  -42xyz",
        "99999999999",
        "9223372036854775808",
        "-9223372036854775809",
        "+7",
        "x",
        "0x10",
    ]);
    let mut body = String::new();
    for k in 0..7 {
        body += &format!(
            "cvtcw\t{0}(mp),160(fp)\nprint.w\t160(fp)\ncvtcl\t{0}(mp),168(fp)\nprint.l\t168(fp)\n",
            32 + 8 * k
        );
    }
    body += "cvtcw\t96(fp),160(fp)\nprint.w\t160(fp)\ncvtcl\t96(fp),168(fp)\nprint.l\t168(fp)";
    let got: Vec<i64> = ops_with(&body, &d).lines().map(|l| l.parse().unwrap()).collect();
    // int s is strtol on a 64-bit long (saturating); big s Inferno's own
    // strtoll (wrapping).
    assert_eq!(
        got,
        [-42, -42, 99999999999, 99999999999, i64::MAX, i64::MIN, i64::MIN, i64::MAX, 7, 7, 0, 0, 0, 0, 0, 0]
    );
    // string of a word takes its low 32 bits, as Inferno's %d does; string
    // of a big all 64.
    let out = ops_with(
        "cvtwc\t$-42,96(fp)\nprint.s\t96(fp)\ncvtwc\t32(mp),96(fp)\nprint.s\t96(fp)\n\
         cvtwc\t40(mp),96(fp)\nprint.s\t96(fp)\n\
         cvtlc\t32(mp),104(fp)\nprint.s\t104(fp)\ncvtlc\t48(mp),104(fp)\nprint.s\t104(fp)",
        &format!("mp 64 f0\nlong @mp+32,{},{},{}", 1i64 << 31, (1i64 << 40) + 5, i64::MIN),
    );
    assert_eq!(out, "-42\n-2147483648\n5\n2147483648\n-9223372036854775808\n");
}

#[test]
fn string_to_real() {
    let vals = [
        "1.5",
        "1e3",
        " .25x",
        "-0",
        "inf",
        "infinity",
        "-Infinity",
        "nan",
        "1e400",
        "0x1p4",
        "abc",
        "1e",
        "5e-400",
    ];
    let d = strings(&vals);
    let mut body = String::new();
    for k in 0..vals.len() {
        body += &format!("cvtcf\t{}(mp),160(fp)\nprint.f\t160(fp)\n", 32 + 8 * k);
    }
    let got: Vec<f64> =
        ops_with(&body, &d).lines().map(|l| f64::from_bits(l.parse::<i64>().unwrap() as u64)).collect();
    let want = [
        1.5,
        1000.0,
        0.25,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::INFINITY,
        0.0,
        0.0,
        1.0,
        0.0,
    ];
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{}: {g} != {w}", vals[k]);
    }
}

#[test]
fn strings_and_byte_arrays() {
    let d = strings(&["héllo"]);
    let out = ops_with(
        "cvtca\t32(mp),96(fp)\nlena\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         indb\t96(fp),168(fp),$1\ncvtbw\t0(168(fp)),160(fp)\nprint.w\t160(fp)\n\
         cvtac\t96(fp),104(fp)\nprint.s\t104(fp)\n\
         slicea\t$0,$2,96(fp)\ncvtac\t96(fp),104(fp)\nlenc\t104(fp),160(fp)\nprint.w\t160(fp)\n\
         cvtca\t112(fp),120(fp)\nlena\t120(fp),160(fp)\nprint.w\t160(fp)\n\
         cvtac\t128(fp),104(fp)\nlenc\t104(fp),160(fp)\nprint.w\t160(fp)",
        &d,
    );
    // "h" and the first byte of "é": the cut character is left out.
    assert_eq!(out, "6\n195\nhéllo\n1\n0\n0\n");
    // cvtca of nil is an empty array, not nil.
    let out = ops_nums("cvtca\t96(fp),104(fp)\nmovw\t$0,160(fp)\nbnew\t104(fp),$0,$<x>\nmovw\t$1,160(fp)\n<x>:\nprint.w\t160(fp)");
    assert_eq!(out, [0]);
}

#[test]
fn array_allocation() {
    let out = ops_nums(
        "newa\t$3,$4,96(fp)\nlena\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         indx\t96(fp),168(fp),$2\nmovw\t0(168(fp)),160(fp)\nprint.w\t160(fp)\n\
         newaz\t$0,$5,104(fp)\nlena\t104(fp),160(fp)\nprint.w\t160(fp)\n\
         lena\t112(fp),160(fp)\nprint.w\t160(fp)",
    );
    assert_eq!(out, [3, 0, 0, 0]);
    assert_eq!(ops_raise("newa\t$-1,$4,96(fp)", ""), "negative array size");
    assert_eq!(ops_raise("newaz\t$-1,$5,96(fp)", ""), "negative array size");
    let huge = "newa\t32(mp),$5,96(fp)";
    let (_, o) = common::run_ops(huge, &format!("mp 40 f0\nlong @mp+32,{}", 1i64 << 40));
    assert_eq!(o, vm::Outcome::Broken("out of memory: heap".into()));
}

/// Indexing each element kind: store through the address, read it back;
/// out of range (and nil) is a bounds error.
#[test]
fn array_indexing_of_every_element_kind() {
    let data = "desc $6,1,\"\"\ndesc $7,8,\"\"";
    let out = ops_with(
        "newa\t$4,$7,96(fp)\nindw\t96(fp),168(fp),$3\nmovw\t$-5,0(168(fp))\nindw\t96(fp),168(fp),$3\nprint.w\t0(168(fp))\n\
         newa\t$4,$6,104(fp)\nindb\t104(fp),168(fp),$3\nmovb\t$200,0(168(fp))\nindb\t104(fp),168(fp),$3\nprint.b\t0(168(fp))\n\
         newa\t$4,$7,112(fp)\nindl\t112(fp),168(fp),$3\ncvtwl\t$-6,0(168(fp))\nindl\t112(fp),168(fp),$3\nprint.l\t0(168(fp))\n\
         newa\t$4,$7,120(fp)\nindf\t120(fp),168(fp),$3\ncvtwf\t$7,0(168(fp))\nindf\t120(fp),168(fp),$3\ncvtfw\t0(168(fp)),160(fp)\nprint.w\t160(fp)\n\
         newa\t$4,$4,128(fp)\nindx\t128(fp),168(fp),$3\nmovw\t$8,0(168(fp))\nindx\t128(fp),168(fp),$3\nprint.w\t0(168(fp))",
        data,
    );
    assert_eq!(out, "-5\n200\n-6\n7\n8\n");
    for (op, ty) in [("indw", 7), ("indb", 6), ("indl", 7), ("indf", 7), ("indx", 4)] {
        for k in [4, -1, 1 << 20] {
            let body = format!("newa\t$4,${ty},96(fp)\n{op}\t96(fp),168(fp),${k}");
            let (_, o) = common::run_ops(&body, data);
            assert_eq!(o, vm::Outcome::Broken("array bounds error".into()), "{op} {k}");
        }
        let (_, o) = common::run_ops(&format!("{op}\t96(fp),168(fp),$0"), data);
        assert_eq!(o, vm::Outcome::Broken("array bounds error".into()), "{op} nil");
    }
    // Word-sized indexing into byte elements would reach past the array's
    // data through its last element, and into 12-byte elements give
    // unaligned words: refused.
    let data = &format!("{data}\ndesc $8,12,\"\"");
    for (op, ty) in [("indw", 6), ("indl", 6), ("indf", 6), ("indw", 8), ("indl", 8), ("indf", 8)] {
        let body = format!("newa\t$4,${ty},96(fp)\n{op}\t96(fp),168(fp),$1");
        let (_, o) = common::run_ops(&body, data);
        assert_eq!(o, vm::Outcome::Broken("array bounds error".into()), "{op} of type {ty}");
    }
}

#[test]
fn array_slices() {
    let fill = "newa\t$5,$5,96(fp)\nindw\t96(fp),168(fp),$0\nmovw\t$10,0(168(fp))\nindw\t96(fp),168(fp),$1\nmovw\t$11,0(168(fp))\n\
        indw\t96(fp),168(fp),$2\nmovw\t$12,0(168(fp))\nindw\t96(fp),168(fp),$3\nmovw\t$13,0(168(fp))\n";
    // The records of type 5 are 24 bytes; indw uses 8-byte elements, so
    // use type 6 (a word).
    let fill = fill.replace("$5,$5", "$5,$6");
    let data = "desc $6,8,\"\"";
    let out = ops_with(
        &format!(
            "{fill}movp\t96(fp),104(fp)\nslicea\t$1,$4,104(fp)\nlena\t104(fp),160(fp)\nprint.w\t160(fp)\n\
             indw\t104(fp),168(fp),$0\nprint.w\t0(168(fp))\n\
             slicea\t$1,$2,104(fp)\nindw\t104(fp),168(fp),$0\nprint.w\t0(168(fp))\n\
             movw\t$99,0(168(fp))\nindw\t96(fp),168(fp),$2\nprint.w\t0(168(fp))\n\
             movp\t96(fp),112(fp)\nslicea\t$5,$5,112(fp)\nlena\t112(fp),160(fp)\nprint.w\t160(fp)"
        ),
        data,
    );
    // A slice shares its elements: a slice of a slice writes the array.
    assert_eq!(out, "3\n11\n12\n99\n0\n");
    for (from, to) in [(3, 2), (0, 6), (-1, 2), (6, 6)] {
        let body = format!("{fill}slicea\t${from},${to},96(fp)");
        let (_, o) = common::run_ops(&body, data);
        assert_eq!(o, vm::Outcome::Broken("array bounds error".into()), "{from}:{to}");
    }
    // Slicing nil: empty slices (at any index) are nil, others a nil
    // dereference.
    assert_eq!(
        ops_nums("slicea\t$0,$0,96(fp)\nslicea\t$3,$3,96(fp)\nlena\t96(fp),160(fp)\nprint.w\t160(fp)"),
        [0]
    );
    assert_eq!(ops_raise("slicea\t$0,$1,96(fp)", ""), "dereference of nil");
}

#[test]
fn array_slice_assignment() {
    let data = "desc $6,8,\"\"";
    let fill = "newa\t$5,$6,96(fp)\nindw\t96(fp),168(fp),$0\nmovw\t$10,0(168(fp))\nindw\t96(fp),168(fp),$1\nmovw\t$11,0(168(fp))\n\
        indw\t96(fp),168(fp),$2\nmovw\t$12,0(168(fp))\nindw\t96(fp),168(fp),$3\nmovw\t$13,0(168(fp))\n\
        indw\t96(fp),168(fp),$4\nmovw\t$14,0(168(fp))\n";
    let dump =
        (0..5).map(|k| format!("indw\t96(fp),168(fp),${k}\nprint.w\t0(168(fp))\n")).collect::<String>();
    // a[1:] = a[0:3]: overlapping upwards; then a[0:] = a[3:].
    let out = ops_with(
        &format!(
            "{fill}movp\t96(fp),104(fp)\nslicea\t$0,$3,104(fp)\nslicela\t104(fp),$1,96(fp)\n{dump}\
             movp\t96(fp),104(fp)\nslicea\t$3,$5,104(fp)\nslicela\t104(fp),$0,96(fp)\n{dump}\
             slicela\t112(fp),$5,96(fp)\n{dump}"
        ),
        data,
    );
    let got: Vec<i64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got, [10, 10, 11, 12, 14, 12, 14, 11, 12, 14, 12, 14, 11, 12, 14]);
    let over = format!("{fill}movp\t96(fp),104(fp)\nslicea\t$0,$3,104(fp)\nslicela\t104(fp),$3,96(fp)");
    assert_eq!(common::run_ops(&over, data).1, vm::Outcome::Broken("array bounds error".into()));
    let neg = format!("{fill}movp\t96(fp),104(fp)\nslicela\t104(fp),$-1,96(fp)");
    assert_eq!(common::run_ops(&neg, data).1, vm::Outcome::Broken("array bounds error".into()));
    let nil_dst = format!("{fill}slicela\t96(fp),$0,104(fp)");
    assert_eq!(common::run_ops(&nil_dst, data).1, vm::Outcome::Broken("dereference of nil".into()));
    // Arrays of pointers keep their references right.
    let strs = ops_with(
        "newa\t$3,$6,96(fp)\nindx\t96(fp),168(fp),$0\nmovp\t32(mp),0(168(fp))\n\
         movp\t96(fp),104(fp)\nslicea\t$0,$2,104(fp)\nslicela\t104(fp),$1,96(fp)\n\
         indx\t96(fp),168(fp),$1\nprint.s\t0(168(fp))\nindx\t96(fp),168(fp),$2\nlenc\t0(168(fp)),160(fp)\nprint.w\t160(fp)",
        "mp 40 f8\nstring @mp+32,\"s\"\ndesc $6,8,\"80\"",
    );
    assert_eq!(strs, "s\n0\n");
}

#[test]
fn lists_of_every_head_kind() {
    let out = ops_with(
        "consw\t$-3,96(fp)\nconsw\t$4,96(fp)\nheadw\t96(fp),160(fp)\nprint.w\t160(fp)\nlenl\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         tail\t96(fp),104(fp)\nheadw\t104(fp),160(fp)\nprint.w\t160(fp)\n\
         tail\t104(fp),104(fp)\nlenl\t104(fp),160(fp)\nprint.w\t160(fp)\n\
         cvtwb\t$255,168(fp)\nconsb\t168(fp),112(fp)\nheadb\t112(fp),176(fp)\nprint.b\t176(fp)\n\
         consl\t32(mp),120(fp)\nheadl\t120(fp),176(fp)\nprint.l\t176(fp)\n\
         consf\t32(mp),128(fp)\nheadf\t128(fp),176(fp)\nprint.f\t176(fp)\n\
         consp\t40(mp),136(fp)\nconsp\t144(fp),136(fp)\nlenl\t136(fp),160(fp)\nprint.w\t160(fp)\n\
         tail\t136(fp),144(fp)\nheadp\t144(fp),152(fp)\nprint.s\t152(fp)",
        "mp 48 f4\nlong @mp+32,-7\nstring @mp+40,\"p\"",
    );
    assert_eq!(out, "4\n2\n-3\n0\n255\n-7\n-7\n2\np\n");
    for op in [
        "headb\t96(fp),160(fp)",
        "headw\t96(fp),160(fp)",
        "headl\t96(fp),160(fp)",
        "headf\t96(fp),160(fp)",
        "headp\t96(fp),104(fp)",
        "headm\t96(fp),$16,160(fp)",
        "headmp\t96(fp),$5,160(fp)",
        "tail\t96(fp),104(fp)",
    ] {
        assert_eq!(ops_raise(op, ""), "dereference of nil", "{op}");
    }
    assert_eq!(ops_nums("lenl\t96(fp),160(fp)\nprint.w\t160(fp)"), [0]);
}

#[test]
fn lists_of_records() {
    // consm/headm copy a record of plain words; consmp/headmp one with
    // pointers, counting its references.
    let out = ops_with(
        "movw\t$21,160(fp)\nmovw\t$22,168(fp)\nconsm\t160(fp),$16,96(fp)\nheadm\t96(fp),$16,176(fp)\n\
         print.w\t176(fp)\nprint.w\t184(fp)\n\
         new\t$4,104(fp)\nmovw\t$5,0(104(fp))\nmovp\t32(mp),8(104(fp))\nconsmp\t0(104(fp)),$4,112(fp)\n\
         movp\t120(fp),104(fp)\nnew\t$4,128(fp)\nheadmp\t112(fp),$4,0(128(fp))\nmovp\t120(fp),112(fp)\n\
         print.w\t0(128(fp))\nprint.s\t8(128(fp))",
        "mp 40 f8\nstring @mp+32,\"rec\"",
    );
    assert_eq!(out, "21\n22\n5\nrec\n");
}

#[test]
fn moves_of_pointers_and_records_count_references() {
    let out = ops_with(
        "movp\t32(mp),96(fp)\nmovp\t96(fp),104(fp)\nmovp\t112(fp),96(fp)\nprint.s\t104(fp)\nlenc\t96(fp),160(fp)\nprint.w\t160(fp)\n\
         new\t$4,120(fp)\nmovp\t32(mp),8(120(fp))\nmovw\t$3,0(120(fp))\nnew\t$4,128(fp)\nmovmp\t0(120(fp)),$4,0(128(fp))\n\
         movp\t136(fp),120(fp)\nprint.w\t0(128(fp))\nprint.s\t8(128(fp))\n\
         movw\t$1,160(fp)\nmovw\t$2,168(fp)\nmovw\t$3,176(fp)\nmovm\t160(fp),$16,184(fp)\nprint.w\t184(fp)\nprint.w\t192(fp)",
        "mp 40 f8\nstring @mp+32,\"str\"",
    );
    assert_eq!(out, "str\n0\n3\nstr\n1\n2\n");
    // A record moved onto itself keeps its pointers (and leaks nothing).
    let out = ops_with(
        "new\t$4,96(fp)\nmovp\t32(mp),8(96(fp))\nmovmp\t0(96(fp)),$4,0(96(fp))\nprint.s\t8(96(fp))",
        "mp 40 f8\nstring @mp+32,\"str\"",
    );
    assert_eq!(out, "str\n");
}

#[test]
fn allocation_of_records() {
    let out = ops_nums(
        "newz\t$5,104(fp)\nmovw\t8(104(fp)),160(fp)\nprint.w\t160(fp)\n\
         new\t$4,112(fp)\nmovw\t$1,160(fp)\nbeqw\t8(112(fp)),$0,$<x>\nmovw\t$0,160(fp)\n<x>:\nprint.w\t160(fp)\n\
         self\t120(fp)\nmnewz\t120(fp),$5,128(fp)\nmovw\t0(128(fp)),160(fp)\nprint.w\t160(fp)",
    );
    assert_eq!(out, [0, 1, 0]);
    assert_eq!(ops_raise("mnewz\t96(fp),$5,104(fp)", ""), "module not loaded");
    // Replacing a record drops the old one (run_ops checks nothing leaks).
    assert_eq!(ops_nums("new\t$4,96(fp)\nnew\t$4,96(fp)\nnewz\t$4,96(fp)\nprint.w\t0(96(fp))"), [0]);
}

#[test]
fn type_checks() {
    assert_eq!(ops_nums("new\t$4,96(fp)\nnew\t$4,104(fp)\ntcmp\t96(fp),104(fp)\nprint.w\t$7"), [7]);
    // A nil source always passes.
    assert_eq!(ops_nums("new\t$4,104(fp)\ntcmp\t96(fp),104(fp)\ntcmp\t96(fp),112(fp)\nprint.w\t$7"), [7]);
    assert_eq!(ops_raise("new\t$4,96(fp)\nnew\t$5,104(fp)\ntcmp\t96(fp),104(fp)", ""), "type check");
    assert_eq!(ops_raise("new\t$4,96(fp)\ntcmp\t96(fp),104(fp)", ""), "type check");
}

#[test]
fn nil_dereferences_through_operands() {
    assert_eq!(ops_raise("movw\t8(96(fp)),160(fp)", ""), "dereference of nil");
    assert_eq!(ops_raise("movw\t$1,8(96(fp))", ""), "dereference of nil");
    // Nothing is made for a nil destination (run_ops checks nothing leaks),
    // and checks of the size still come first, as in Inferno.
    for make in
        ["new\t$4", "newz\t$4", "newa\t$3,$5", "newaz\t$3,$4", "newcw\t$2", "cvtwc\t$7", "cvtlc\t24(mp)"]
            .into_iter()
            .chain(["cvtfc\t24(mp)", "cvtca\t24(mp)", "cvtac\t104(fp)", "self\t104(fp)\nmnewz\t104(fp),$5"])
    {
        assert_eq!(ops_raise(&format!("{make},8(96(fp))"), ""), "dereference of nil", "{make}");
    }
    assert_eq!(ops_raise("newa\t$-1,$5,8(96(fp))", ""), "negative array size");
}

#[test]
fn lea_and_movpc() {
    let out = ops_nums("movw\t$42,160(fp)\nlea\t160(fp),168(fp)\nmovw\t0(168(fp)),176(fp)\nprint.w\t176(fp)\nmovpc\t$3,160(fp)\nprint.w\t160(fp)");
    assert_eq!(out, [42, 3]);
}

#[test]
fn real_to_string() {
    // Inferno's %g: no leading zero before the point.
    let vals = [1.0, -2.5, 100.0, 0.5, 1e20, 1.0 / 3.0, f64::INFINITY];
    let list: Vec<String> = vals.iter().map(|v| (v.to_bits() as i64).to_string()).collect();
    let mut body = String::new();
    for k in 0..vals.len() {
        body += &format!("cvtfc\t{}(mp),96(fp)\nprint.s\t96(fp)\n", 32 + 8 * k);
    }
    let data = format!("mp {} f0\nlong @mp+32,{}", 32 + 8 * vals.len(), list.join(","));
    assert_eq!(ops_with(&body, &data), "1\n-2.5\n100\n.5\n1e+20\n.3333333333333333\nInfinity\n");
}
