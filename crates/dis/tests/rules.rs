//! The loader's rules, one by one: for each opcode family a legal
//! instruction is accepted and each kind of illegal operand is refused with
//! its message; the same for each kind of data item.
//!
//! Modules start from a small assembled base (a 96-byte frame type whose
//! word at 64 is a pointer, 32 bytes of module data whose first two words
//! are pointers) and have their code or data replaced.

use dis::{validate::validate, Datum, Inst, Module, Opcode as O, Operand, WordSize};
use Operand::{Fp, Imm, IndFp, Mp, None as No};

const BASE: &str = "
	ret
	entry	0, 1
	desc	$0,32,\"c0\"
	desc	$1,96,\"0080\"
	var	@mp,32
	module	Rules
	link	1,0,0x4244b354,\"init\"
";

fn base() -> Module {
    dis::asm::assemble(BASE).expect("base module assembles")
}

/// Validates `code` (then `ret`) in the base module.
fn code(code: &[Inst]) -> Result<(), String> {
    let mut m = base();
    m.code = code.to_vec();
    m.code.push(inst(O::Ret, No, No, No));
    validate(&m, WordSize::W8, None).map(|_| ()).map_err(|e| e.to_string())
}

fn inst(op: O, src: Operand, mid: Operand, dst: Operand) -> Inst {
    Inst { op, src, mid, dst }
}

/// Asserts that `i` loads.
fn ok(i: Inst) {
    assert_eq!(code(&[i]), Ok(()), "{i:?}");
}

/// Asserts that `i` is refused with `msg` (after the instruction prefix).
fn bad(i: Inst, msg: &str) {
    let name = i.op.name();
    assert_eq!(code(&[i]), Err(format!("instruction 0 ({name}): {msg}")), "{i:?}");
}

#[test]
fn moves() {
    ok(inst(O::Movw, Imm(1), No, Fp(72)));
    ok(inst(O::Movb, Fp(72), No, Fp(80)));
    ok(inst(O::Movp, Mp(0), No, Fp(64)));
    bad(inst(O::Movw, Fp(72), No, Imm(1)), "destination operand cannot be an immediate");
    bad(inst(O::Movw, Fp(72), Fp(80), Fp(88)), "takes no middle operand");
    bad(inst(O::Movw, No, No, Fp(72)), "needs a source operand");
    bad(inst(O::Movw, Fp(-8), No, Fp(72)), "source frame offset -8 invalid");
    // Words on word boundaries, smaller values inside one word.
    bad(inst(O::Movw, Fp(76), No, Fp(72)), "source operand at offset 76 is not aligned for 8 bytes");
    bad(inst(O::Movw, Imm(1), No, Mp(20)), "destination operand at offset 20 is not aligned for 8 bytes");
    ok(inst(O::Movb, Fp(79), No, Fp(73)));
    bad(inst(O::Cvtws, Fp(72), No, Fp(79)), "destination operand at offset 79 is not aligned for 2 bytes");
}

#[test]
fn arithmetic() {
    for op in [O::Addw, O::Subb, O::Mull, O::Divf, O::Shlw, O::Modw] {
        ok(inst(op, Fp(72), Fp(80), Fp(88)));
        ok(inst(op, Fp(72), No, Fp(88)));
        bad(inst(op, Fp(72), Fp(80), Imm(0)), "destination operand cannot be an immediate");
        bad(inst(op, Fp(72), Fp(80), No), "needs a destination operand");
    }
}

#[test]
fn module_data() {
    ok(inst(O::Movw, Mp(16), No, Fp(72)));
    bad(inst(O::Movw, Mp(40), No, Fp(72)), "source operand 40(mp) outside module data of 32 bytes");
    bad(inst(O::Movw, Imm(1), No, Mp(0)), "destination operand 0(mp) writes over a pointer");
    bad(inst(O::Movp, Mp(16), No, Fp(64)), "source operand 16(mp) is not a pointer slot");
}

#[test]
fn compares_and_branches() {
    ok(inst(O::Beqw, Fp(72), Fp(80), Imm(1)));
    ok(inst(O::Bltc, Fp(64), Mp(0), Imm(0)));
    bad(inst(O::Beqw, Fp(72), Fp(80), Imm(912)), "branch target 912 out of range (code has 2 instructions)");
    bad(inst(O::Jmp, No, No, Fp(72)), "destination operand must be an immediate");
    ok(inst(O::Jmp, No, No, Imm(1)));
}

#[test]
fn conversions() {
    for op in [O::Cvtwb, O::Cvtbw, O::Cvtfw, O::Cvtwf, O::Cvtlw, O::Cvtfl, O::Cvtrf, O::Cvtws] {
        ok(inst(op, Fp(72), No, Fp(80)));
        bad(inst(op, Fp(72), Fp(80), Fp(88)), "takes no middle operand");
    }
    ok(inst(O::Cvtwc, Fp(72), No, Fp(64)));
}

#[test]
fn allocation_and_types() {
    ok(inst(O::New, Imm(0), No, Fp(64)));
    bad(inst(O::New, Imm(9), No, Fp(64)), "type 9 out of range (2 types)");
    bad(inst(O::New, Fp(72), No, Fp(64)), "source operand must be an immediate");
    ok(inst(O::Newa, Fp(72), Imm(0), Fp(64)));
    bad(inst(O::Newa, Fp(72), Imm(5), Fp(64)), "type 5 out of range (2 types)");
    ok(inst(O::Frame, Imm(1), No, Fp(72)));
    bad(inst(O::Frame, Imm(2), No, Fp(72)), "type 2 out of range (2 types)");
}

#[test]
fn arrays_strings_lists() {
    ok(inst(O::Indw, Fp(64), Fp(72), Fp(80)));
    ok(inst(O::Lena, Fp(64), No, Fp(72)));
    ok(inst(O::Slicea, Fp(72), Fp(80), Fp(64)));
    ok(inst(O::Indc, Fp(64), Fp(72), Fp(80)));
    ok(inst(O::Lenl, Fp(64), No, Fp(72)));
    ok(inst(O::Consw, Fp(72), No, Fp(64)));
    bad(inst(O::Lena, Fp(64), No, Imm(3)), "destination operand cannot be an immediate");
}

#[test]
fn indirect_operands() {
    ok(inst(O::Movw, IndFp { ptr: 64, off: 8 }, No, Fp(72)));
    bad(
        inst(O::Movw, IndFp { ptr: 96, off: 8 }, No, Fp(72)),
        "frame operand beyond frame type 1 of 96 bytes",
    );
}

#[test]
fn frames_are_checked_against_the_link_type() {
    bad(inst(O::Movw, Imm(1), No, Fp(96)), "frame operand beyond frame type 1 of 96 bytes");
    bad(inst(O::Movw, Imm(1), No, Fp(64)), "64(fp) writes over a pointer of frame type 1");
    bad(inst(O::Movp, Fp(64), No, Fp(72)), "72(fp) is not a pointer slot of frame type 1");
}

#[test]
fn calls() {
    ok(inst(O::Call, Fp(72), No, Imm(0)));
    bad(inst(O::Call, Fp(72), No, Imm(7)), "branch target 7 out of range (code has 2 instructions)");
    // The function index of `mcall` depends on the module loaded at run time.
    ok(inst(O::Mcall, Fp(72), Imm(5), Mp(0)));
    bad(inst(O::Load, Mp(0), Imm(3), Fp(64)), "import table 3 out of range (0 tables)");
}

/// The runtime runs a function only in frames of the type its operands were
/// checked against, so that type must be known and agreed on.
#[test]
fn functions_have_one_frame_type() {
    let module = |code: &str| {
        let src = format!(
            "{code}\tentry\t0, 1\n\tdesc\t$0,32,\"c0\"\n\tdesc\t$1,96,\"0080\"\n\tdesc\t$2,96,\"\"\n\
             \tdesc\t$3,96,\"\"\n\tvar\t@mp,32\n\tmodule\tRules\n\tlink\t1,0,0x4244b354,\"init\"\n"
        );
        let m = dis::asm::assemble(&src).expect("assembles");
        validate(&m, WordSize::W8, None).map(|_| ()).map_err(|e| e.to_string())
    };
    let call = |t: u8, target: u8| format!("\tframe\t${t},72(fp)\n\tcall\t72(fp),${target}\n");
    // A function called with frame type 2, and with 3 laid out the same.
    let f = "\tret\n\tmovw\t$1,64(fp)\n\tret\n";
    assert_eq!(module(&format!("{}{}{f}", call(2, 5), call(3, 5))), Ok(()));
    // init runs in type 1 (its link); type 2 has no pointer at 64.
    assert_eq!(
        module(&format!("{}\tret\n", call(2, 0))),
        Err("instruction 1 (call): function at 0 called with frame type 2, elsewhere 1".into())
    );
    // Called through a slot no `frame` set: nothing shows its type.
    assert_eq!(
        module("\tcall\t72(fp),$2\n\tret\n\tret\n"),
        Err("instruction 2 (ret): no call site or link shows the function's frame type".into())
    );
}

/// Validates the base module with `data` as its data items.
fn data(items: Vec<Datum>) -> Result<(), String> {
    let mut m = base();
    m.data = items;
    validate(&m, WordSize::W8, None).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn data_items() {
    assert_eq!(data(vec![Datum::Bytes { offset: 16, bytes: vec![1, 2, 3] }]), Ok(()));
    assert_eq!(
        data(vec![Datum::Bytes { offset: 30, bytes: vec![1, 2, 3] }]),
        Err("bad byte data range at offset 30".into())
    );
    assert_eq!(
        data(vec![Datum::Bytes { offset: 0, bytes: vec![1] }]),
        Err("bad byte data range at offset 0".into())
    );
    assert_eq!(data(vec![Datum::Words { offset: 16, words: vec![1, 2] }]), Ok(()));
    assert_eq!(
        data(vec![Datum::Words { offset: 20, words: vec![1] }]),
        Err("bad word data range at offset 20".into())
    );
    assert_eq!(
        data(vec![Datum::Words { offset: 8, words: vec![1] }]),
        Err("bad word data range at offset 8".into())
    );
    assert_eq!(data(vec![Datum::Longs { offset: 24, longs: vec![1] }]), Ok(()));
    assert_eq!(
        data(vec![Datum::Longs { offset: 32, longs: vec![1] }]),
        Err("bad long data range at offset 32".into())
    );
    assert_eq!(data(vec![Datum::Reals { offset: 16, bits: vec![0, 1] }]), Ok(()));
    assert_eq!(
        data(vec![Datum::Reals { offset: 8, bits: vec![0] }]),
        Err("bad real data range at offset 8".into())
    );
    assert_eq!(data(vec![Datum::String { offset: 8, text: "é".into() }]), Ok(()));
    assert_eq!(
        data(vec![Datum::String { offset: 16, text: "x".into() }]),
        Err("bad string data range at offset 16".into())
    );
    assert_eq!(
        data(vec![
            Datum::String { offset: 0, text: "x".into() },
            Datum::String { offset: 0, text: "y".into() }
        ]),
        Err("bad string data range at offset 0".into())
    );
    assert_eq!(
        data(vec![Datum::Bytes { offset: 40, bytes: vec![1] }]),
        Err("bad data item range: offset 40 outside 32 bytes".into())
    );
}

#[test]
fn array_data() {
    let arr = Datum::Array { offset: 0, elem: 1, len: 2, count: 1 };
    assert_eq!(data(vec![arr.clone()]), Ok(()));
    assert_eq!(
        data(vec![Datum::Array { offset: 0, elem: 7, len: 2, count: 1 }]),
        Err("bad array type 7".into())
    );
    assert_eq!(
        data(vec![Datum::Array { offset: 0, elem: 1, len: -1, count: 1 }]),
        Err("bad array size -1".into())
    );
    // Initialising element 1 (type 1: 96 bytes, its word at 64 a pointer).
    let ind = Datum::Index { offset: 0, index: 1, count: 1 };
    let pop = Datum::Pop { offset: 0, count: 1 };
    assert_eq!(
        data(vec![arr.clone(), ind.clone(), Datum::Words { offset: 8, words: vec![5] }, pop.clone()]),
        Ok(())
    );
    assert_eq!(
        data(vec![arr.clone(), ind.clone(), Datum::Words { offset: 64, words: vec![5] }, pop.clone()]),
        Err("bad word data range at offset 64".into())
    );
    assert_eq!(
        data(vec![arr.clone(), ind.clone(), Datum::String { offset: 64, text: "s".into() }, pop.clone()]),
        Ok(())
    );
    assert_eq!(
        data(vec![arr.clone(), Datum::Index { offset: 0, index: 3, count: 1 }, pop.clone()]),
        Err("array init range: index 3 of 2".into())
    );
    assert_eq!(
        data(vec![Datum::Index { offset: 8, index: 0, count: 1 }]),
        Err("ind not array at offset 8".into())
    );
    assert_eq!(data(vec![pop]), Err("pop range: apop with no array open".into()));
    assert_eq!(data(vec![arr, ind]), Err("unbalanced array data: indir without apop".into()));
}

#[test]
fn classic_word_size_parses_the_same_structure() {
    let b = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/dis/hello.dis")).unwrap();
    let (m, spans) = dis::read::parse(&b).unwrap();
    // The structure does not depend on the word size; the layout checks do.
    assert_eq!(m.code.len(), 23);
    assert!(validate(&m, WordSize::W8, Some(&spans)).is_ok());
    let w4 = validate(&m, WordSize::W4, Some(&spans));
    assert!(w4.is_err(), "64-bit frame offsets do not fit 32-bit frame types");
}

/// A legal operand for a slot of this kind in the base module.
fn legal(k: dis::Kind) -> Operand {
    use dis::{Kind as K, Ty};
    match k {
        K::Read(Ty::P) | K::Write(Ty::P) | K::Update => Fp(64),
        K::Target => Imm(0),
        // Type 1 can be a frame's: type 0 maps the frame registers' words.
        K::Type => Imm(1),
        _ => Fp(72),
    }
}

/// Every opcode of the table: a legal form loads; a missing required
/// operand, an operand where none is taken and an immediate destination
/// are refused with their messages.
#[test]
fn every_opcode_rules() {
    use dis::{Kind as K, Slot};
    // Jump tables live in module data and `load` needs an import table:
    // tested above and by the fixtures.
    let special = [O::Case, O::Casec, O::Casel, O::Goto, O::Load];
    let mut checked = 0;
    for info in dis::OPCODES.iter().filter(|i| !special.contains(&i.op)) {
        let slots = [(info.src, "source"), (info.mid, "middle"), (info.dst, "destination")];
        let ops: Vec<Operand> = slots.iter().map(|(s, _)| s.kind().map_or(No, legal)).collect();
        let make = |o: &[Operand]| inst(info.op, o[0], o[1], o[2]);
        ok(make(&ops));
        for (k, (slot, name)) in slots.iter().enumerate() {
            let mut o = ops.clone();
            match slot {
                Slot::No => {
                    o[k] = Fp(72);
                    bad(make(&o), &format!("takes no {name} operand"));
                }
                Slot::Req(kind) => {
                    o[k] = No;
                    bad(make(&o), &format!("needs a {name} operand"));
                    if matches!(kind, K::Write(_) | K::Update) {
                        o[k] = Imm(0);
                        bad(make(&o), &format!("{name} operand cannot be an immediate"));
                    }
                }
                Slot::Opt(_) => {}
            }
        }
        checked += 1;
    }
    assert_eq!(checked, dis::OPCODES.len() - special.len());
}

/// The first words of a frame are the VM's registers: no operand names
/// them, and no frame type may take them for pointers. Jump tables must be
/// in module data, where the loader checks them.
#[test]
fn frame_registers_and_jump_tables() {
    bad(inst(O::Movw, Fp(72), No, Fp(16)), "destination operand 16(fp) names a frame register");
    bad(inst(O::Movw, Fp(24), No, Fp(72)), "source operand 24(fp) names a frame register");
    bad(inst(O::Movw, IndFp { ptr: 8, off: 0 }, No, Fp(72)), "source operand 8(fp) names a frame register");
    ok(inst(O::Movw, Fp(32), No, Fp(72)));
    bad(inst(O::Frame, Imm(0), No, Fp(72)), "frame type 0 maps a frame register as a pointer");
    bad(inst(O::Case, Fp(72), No, Fp(80)), "jump table must be in module data");
    bad(inst(O::Goto, Fp(72), No, IndFp { ptr: 64, off: 0 }), "jump table must be in module data");
}

/// A case table's count says how many arms follow; a negative count `n`
/// stands for `-n - 1`, and the loader refuses a table whose count, of
/// either sign, runs past module data.
#[test]
fn case_table_counts() {
    let table = |count: i64| -> Result<(), String> {
        let mut m = base();
        m.data.push(dis::Datum::Longs { offset: 16, longs: vec![count, 1] });
        m.code = vec![inst(O::Case, Fp(72), No, Mp(16)), inst(O::Ret, No, No, No)];
        validate(&m, WordSize::W8, None).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(table(0), Ok(()));
    assert_eq!(table(-1), Ok(()));
    let too_long = "instruction 0 (case): jump table at 16(mp) does not fit in module data";
    for count in [1, -2, i64::MAX, i64::MIN] {
        assert_eq!(table(count), Err(too_long.to_string()), "count {count}");
    }
}
