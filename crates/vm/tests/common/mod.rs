//! Running small programs written in Dis assembler, for VM tests.

#![allow(dead_code)]

pub mod hostile;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use vm::{Config, Outcome, Vm};

/// A `Write` whose bytes the test can read afterwards.
#[derive(Clone, Default)]
pub struct Capture(pub Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The header every test program shares: module data holds "$Sys" at 0,
/// the Sys link at 8 and format strings from 16; `init`'s frame is type 1.
/// Programs call `print` through import 0.
pub const PRELUDE: &str = "\tflags\thasldt\n\tstack\t1024\n";

/// Assembles `src`, writes it to a temporary `.dis`, runs it with `args`
/// and returns what it printed and how it ended.
pub fn run_asm(src: &str, args: &[&str]) -> (String, Outcome, Vm) {
    run_asm_with(src, args, None)
}

/// As [`run_asm`], with modules compiled by `backend` (the JIT's tests).
pub fn run_asm_with(
    src: &str,
    args: &[&str],
    backend: Option<Box<dyn vm::native::Backend>>,
) -> (String, Outcome, Vm) {
    run_asm_config(src, args, Config::default(), backend)
}

/// As [`run_asm_with`], with the VM's configuration.
pub fn run_asm_config(
    src: &str,
    args: &[&str],
    config: Config,
    backend: Option<Box<dyn vm::native::Backend>>,
) -> (String, Outcome, Vm) {
    let module = dis::asm::assemble(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    dis::validate::validate(&module, dis::WordSize::W8, None).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let bytes = dis::write::encode(&module).unwrap();
    let dir = std::env::temp_dir().join(format!("dite-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:x}.dis", fxhash(src)));
    std::fs::write(&path, bytes).unwrap();
    let out = Capture::default();
    let mut vm = Vm::with_output(config, Box::new(out.clone()));
    if let Some(b) = backend {
        vm.set_backend(b);
    }
    let path = path.to_string_lossy().into_owned();
    let mut argv = vec![path.clone()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let outcome = vm.run_program(&path, &argv).unwrap();
    let text = String::from_utf8(out.0.borrow().clone()).unwrap();
    (text, outcome, vm)
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// Builds a test program from the body of `init` and extra directives, for
/// the instruction tests (`opcodes*.rs`).
///
/// The body is Dis assembler with three additions: a line `<name>:` labels
/// the next instruction, `<name>` anywhere (body or directives) stands for
/// that instruction's pc, and `print.w X`, `print.b X`, `print.l X`,
/// `print.f X` (a real's bits) and `print.s X` print an operand with
/// `%bd` or `%s` and a newline.
///
/// `init`'s frame (type 1) is 512 bytes: its arguments at 64 and 72, plain
/// words at 40..64, 80..96 and
/// 160..400, pointers at 96..160 (eight slots); 400 and 408 belong to the
/// prints. Module data: "$Sys" at 0, the Sys link at 8, "%bd\n" at 16 and
/// "%s\n" at 24; 64 bytes unless `extra` has `mp SIZE MAP` (MAP the hex
/// pointer map, which must keep the first four words as pointers). Types
/// 2 and 3 are print frames, 4 a 16-byte record whose second word is a
/// pointer, 5 a 24-byte record of plain words; `extra` adds more `desc`s.
/// `link`, `ldt`/`ext` and `exception`/`exctab` lines in `extra` go where
/// the format needs them; the rest are data items.
pub fn ops_program(body: &str, extra: &str) -> String {
    let mut code = vec!["\tload\t0(mp),$0,8(mp)".to_string()];
    for line in body.lines() {
        let t = line.trim();
        let (word, arg) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let arg = arg.trim();
        let print = |ty: u8, fmt: u8, mov: &str| {
            vec![
                format!("\tframe\t${ty},400(fp)"),
                format!("\tmovp\t{fmt}(mp),64(400(fp))"),
                format!("\t{mov}\t{arg},72(400(fp))"),
                "\tlea\t408(fp),32(400(fp))".to_string(),
                "\tmcall\t400(fp),$0,8(mp)".to_string(),
            ]
        };
        match word {
            "print.w" => code.extend(print(2, 16, "movw")),
            "print.b" => code.extend(print(2, 16, "cvtbw")),
            "print.l" => code.extend(print(2, 16, "movl")),
            "print.f" => code.extend(print(2, 16, "movf")),
            "print.s" => code.extend(print(3, 24, "movp")),
            "" => {}
            _ => code.push(format!("\t{t}")),
        }
    }
    code.push("\tret".to_string());
    // Labels: a line `<name>:` names the pc of the next instruction.
    let mut labels = Vec::new();
    let mut insts = Vec::new();
    for l in code {
        let t = l.trim();
        if let Some(name) = t.strip_prefix('<').and_then(|r| r.strip_suffix(">:")) {
            labels.push((format!("<{name}>"), insts.len()));
        } else {
            insts.push(l);
        }
    }
    let subst = |s: &str| {
        let mut s = s.to_string();
        for (name, pc) in &labels {
            s = s.replace(name.as_str(), &pc.to_string());
        }
        assert!(!s.contains("<"), "unknown label in {s}");
        s
    };
    let (mut mp_size, mut mp_map) = (64, "f0".to_string());
    let (mut data, mut links, mut imports, mut handlers) = (vec![], vec![], vec![], vec![]);
    for line in extra.lines() {
        let t = line.trim();
        let word = t.split_whitespace().next().unwrap_or("");
        let l = format!("\t{}", subst(t));
        match word {
            "" => {}
            "mp" => {
                let mut w = t.split_whitespace().skip(1);
                mp_size = w.next().unwrap().parse().unwrap();
                mp_map = w.next().unwrap_or("f0").to_string();
            }
            "link" => links.push(l),
            "ldt" | "ext" => imports.push(l),
            "exceptions" | "exception" | "exctab" => handlers.push(l),
            _ => data.push(l),
        }
    }
    let flags = if handlers.is_empty() { "hasldt" } else { "hasexcept,hasldt" };
    let mut out = format!("\tflags\t{flags}\n\tstack\t4096\n");
    for i in insts {
        out.push_str(&subst(&i));
        out.push('\n');
    }
    out.push_str(&format!(
        "\tentry\t0, 1\n\
         \tdesc\t$0,{mp_size},\"{mp_map}\"\n\
         \tdesc\t$1,512,\"00cff0\"\n\
         \tdesc\t$2,80,\"0080\"\n\
         \tdesc\t$3,80,\"00c0\"\n\
         \tdesc\t$4,16,\"40\"\n\
         \tdesc\t$5,24,\"\"\n"
    ));
    let (descs, items): (Vec<_>, Vec<_>) = data.into_iter().partition(|l| l.starts_with("\tdesc"));
    for l in descs {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&format!(
        "\tvar\t@mp,{mp_size}\n\
         \tstring\t@mp+0,\"$Sys\"\n\
         \tstring\t@mp+16,\"%bd\\n\"\n\
         \tstring\t@mp+24,\"%s\\n\"\n"
    ));
    for l in items {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("\tmodule\tOps\n\tlink\t1,0,0x4244b354,\"init\"\n");
    for l in links {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("\tldt\t1\n\text\t0xac849033,\"print\"\n");
    for l in imports.into_iter().chain(handlers) {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Runs an [`ops_program`]: what it printed and how it ended.
pub fn run_ops(body: &str, extra: &str) -> (String, Outcome) {
    let (out, outcome, vm) = run_asm(&ops_program(body, extra), &[]);
    let st = vm.heap.stats();
    assert_eq!(st.objects, 0, "objects left after the program: {st:?}\n{body}");
    (out, outcome)
}

/// Runs an [`ops_program`] that must end normally; its output.
pub fn ops(body: &str) -> String {
    ops_with(body, "")
}

/// As [`ops`], with extra directives.
pub fn ops_with(body: &str, extra: &str) -> String {
    let (out, outcome) = run_ops(body, extra);
    assert_eq!(outcome, Outcome::Done, "{body}\nprinted {out:?}");
    out
}

/// Runs an [`ops_program`] that must die of an exception; its message
/// (after checking what it printed first).
pub fn ops_raise(body: &str, printed: &str) -> String {
    let (out, outcome) = run_ops(body, "");
    assert_eq!(out, printed, "{body}");
    match outcome {
        Outcome::Broken(msg) => msg,
        o => panic!("{body}: {o:?}, printed {out:?}"),
    }
}

/// The output lines of [`ops`] parsed as numbers.
pub fn ops_nums(body: &str) -> Vec<i64> {
    ops(body).lines().map(|l| l.parse().unwrap_or_else(|_| panic!("{body}: printed {l:?}"))).collect()
}
