// Programs for the runtime tests, shared by the interpreter's tests here and
// the JIT's (`crates/jit/tests/runtime.rs`), which `include!` this file.

/// Recursion `depth` deep: rec(n) = n == 0 ? 0 : rec(n-1) + 1, printed.
pub fn recursion(depth: u32) -> String {
    format!(
        "\tflags\thasldt\n\tstack\t1024\n\
         \tload\t0(mp),$0,8(mp)\n\
         \tframe\t$2,80(fp)\n\
         \tmovw\t${depth},64(80(fp))\n\
         \tlea\t88(fp),32(80(fp))\n\
         \tcall\t80(fp),$11\n\
         \tframe\t$3,80(fp)\n\
         \tmovp\t16(mp),64(80(fp))\n\
         \tmovw\t88(fp),72(80(fp))\n\
         \tlea\t96(fp),32(80(fp))\n\
         \tmcall\t80(fp),$0,8(mp)\n\
         \tret\n\
         \tbnew\t64(fp),$0,$14\n\
         \tmovw\t$0,0(32(fp))\n\
         \tret\n\
         \tframe\t$2,80(fp)\n\
         \tsubw\t$1,64(fp),64(80(fp))\n\
         \tlea\t72(fp),32(80(fp))\n\
         \tcall\t80(fp),$11\n\
         \taddw\t$1,72(fp),0(32(fp))\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,24,\"e0\"\n\
         \tdesc\t$1,104,\"00c0\"\n\
         \tdesc\t$2,88,\"\"\n\
         \tdesc\t$3,80,\"0080\"\n\
         \tvar\t@mp,24\n\
         \tstring\t@mp+0,\"$Sys\"\n\
         \tstring\t@mp+16,\"%d\\n\"\n\
         \tmodule\tRec\n\
         \tlink\t1,0,0x4244b354,\"init\"\n\
         \tldt\t1\n\
         \text\t0xac849033,\"print\"\n"
    )
}

/// Builds and drops `n` two-node cycles, which reference counting alone
/// never frees.
pub fn cycles(n: u32) -> String {
    format!(
        "\tstack\t1024\n\
         \tmovw\t$0,96(fp)\n\
         \tbgew\t96(fp),${n},$8\n\
         \tnew\t$2,80(fp)\n\
         \tnew\t$2,88(fp)\n\
         \tmovp\t88(fp),0(80(fp))\n\
         \tmovp\t80(fp),0(88(fp))\n\
         \taddw\t$1,96(fp)\n\
         \tjmp\t$1\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,0,\"\"\n\
         \tdesc\t$1,104,\"00f0\"\n\
         \tdesc\t$2,8,\"80\"\n\
         \tvar\t@mp,0\n\
         \tmodule\tCycles\n\
         \tlink\t1,0,0x4244b354,\"init\"\n"
    )
}

/// Two threads left waiting on a channel nobody else holds, and an array.
pub const BLOCKED: &str = "\tstack\t1024\n\
         \tnewcw\t80(fp)\n\
         \tframe\t$2,88(fp)\n\
         \tmovp\t80(fp),64(88(fp))\n\
         \tspawn\t88(fp),$9\n\
         \tframe\t$2,88(fp)\n\
         \tmovp\t80(fp),64(88(fp))\n\
         \tspawn\t88(fp),$9\n\
         \tnewa\t$1000,$3,80(fp)\n\
         \tret\n\
         \trecv\t64(fp),72(fp)\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,0,\"\"\n\
         \tdesc\t$1,96,\"00e0\"\n\
         \tdesc\t$2,80,\"0080\"\n\
         \tdesc\t$3,8,\"\"\n\
         \tvar\t@mp,0\n\
         \tmodule\tBlocked\n\
         \tlink\t1,0,0x4244b354,\"init\"\n";

/// A main thread waiting forever on its own channel.
pub const STUCK: &str = "\tstack\t1024\n\
         \tnewcw\t80(fp)\n\
         \trecv\t80(fp),88(fp)\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,0,\"\"\n\
         \tdesc\t$1,96,\"00e0\"\n\
         \tvar\t@mp,0\n\
         \tmodule\tStuck\n\
         \tlink\t1,0,0x4244b354,\"init\"\n";

/// A thread spinning until main, which counts to 100,000, sets a flag.
pub const SPIN: &str = "\tstack\t1024\n\
         \tframe\t$2,88(fp)\n\
         \tspawn\t88(fp),$8\n\
         \tmovw\t$0,96(fp)\n\
         \tbgew\t96(fp),$100000,$6\n\
         \taddw\t$1,96(fp)\n\
         \tjmp\t$3\n\
         \tmovw\t$1,0(mp)\n\
         \tret\n\
         \tbeqw\t0(mp),$0,$8\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,8,\"\"\n\
         \tdesc\t$1,104,\"00c0\"\n\
         \tdesc\t$2,64,\"\"\n\
         \tvar\t@mp,8\n\
         \tmodule\tSpin\n\
         \tlink\t1,0,0x4244b354,\"init\"\n";

/// A list that grows without end, one cell at a time.
pub const RUNAWAY_LIST: &str = "\tmovw\t$7,80(fp)\n\
     \tconsw\t80(fp),64(fp)\n\
     \tjmp\t$1\n\
     \tentry\t0, 1\n\
     \tdesc\t$0,0,\"\"\n\
     \tdesc\t$1,104,\"00c0\"\n\
     \tmodule\tGrow\n\
     \tlink\t1,0,0x4244b354,\"init\"\n";

/// The limit the out-of-memory tests run under: small, so that they end
/// in a moment.
pub const SMALL_HEAP: usize = 16 << 20;
