//! Measures what compiling costs: each `.dis` file given is compiled
//! `-n` times (default 20), and the best time per Dis instruction printed,
//! with the Cranelift IR instructions each Dis instruction became.
//!
//! `cargo run --release -p dite-jit --example compile_cost -- fixtures/dis/*.dis`

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 20;
    if let Some(k) = args.iter().position(|a| a == "-n") {
        rounds = args.get(k + 1).and_then(|n| n.parse().ok()).expect("-n COUNT");
        args.drain(k..k + 2);
    }
    let jit = jit::Jit::host().expect("a JIT for this host");
    let (mut all_insts, mut all_ir, mut all_us) = (0usize, 0usize, 0f64);
    for path in &args {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let loaded = match dis::load(&bytes, dis::WordSize::W8) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let module = vm::module::Module::new(path, loaded);
        let insts = module.code.len();
        let runs: Vec<jit::Stats> = (0..rounds).map(|_| jit.compile_all(&module)).collect();
        let best = runs.iter().map(|s| s.time.as_secs_f64() * 1e6).fold(f64::INFINITY, f64::min);
        let ir = runs[0].ir_insts;
        println!(
            "{path}: {insts} instructions, {ir} in IR, {best:.0} µs, {:.2} µs per instruction",
            best / insts.max(1) as f64
        );
        all_insts += insts;
        all_ir += ir;
        all_us += best;
    }
    println!(
        "total: {all_insts} instructions, {all_ir} in IR ({:.1} each), {all_us:.0} µs, {:.2} µs per instruction",
        all_ir as f64 / all_insts.max(1) as f64,
        all_us / all_insts.max(1) as f64
    );
}
