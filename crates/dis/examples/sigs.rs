//! Lists the (module path, function, signature) triples that modules import,
//! from `load` instructions and their import tables.
use std::collections::BTreeSet;
fn main() {
    let mut out = BTreeSet::new();
    for f in std::env::args().skip(1) {
        let Ok(b) = std::fs::read(&f) else { continue };
        let Ok((m, _)) = dis::read::parse(&b) else { continue };
        let Some(imports) = &m.imports else { continue };
        let strings: std::collections::HashMap<i32, String> = m
            .data
            .iter()
            .filter_map(|d| match d {
                dis::Datum::String { offset, text } => {
                    Some((*offset, String::from_utf8_lossy(text).into_owned()))
                }
                _ => None,
            })
            .collect();
        for i in &m.code {
            if i.op == dis::Opcode::Load {
                if let (dis::Operand::Mp(o), dis::Operand::Imm(k)) = (i.src, i.mid) {
                    if let (Some(path), Some(list)) = (strings.get(&o), imports.get(k as usize)) {
                        if path.starts_with('$') {
                            for imp in list {
                                out.insert((path.clone(), imp.name.clone(), imp.sig));
                            }
                        }
                    }
                }
            }
        }
    }
    for (p, n, s) in out {
        println!("{p} {n} {s:#010x}");
    }
}
