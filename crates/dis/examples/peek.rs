fn main() {
    let a: Vec<String> = std::env::args().collect();
    let b = std::fs::read(&a[1]).unwrap();
    let (m, _) = dis::read::parse(&b).unwrap();
    let pc: usize = a[2].parse().unwrap();
    println!("{:?}", m.code[pc]);
}
