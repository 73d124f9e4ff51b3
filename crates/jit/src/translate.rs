//! Dis function → Cranelift IR.
//!
//! A compiled function has the signature `fn(ctx, resume) -> exit` and can
//! be entered at any instruction of its body: `resume` indexes the body, and
//! a jump table at the entry leads to that instruction's block. Dis is a
//! memory-to-memory machine, so every instruction reads its operands from
//! the frame, module data or heap and writes its result back; nothing lives
//! in registers across instructions, and leaving at any instruction loses
//! nothing.
//!
//! Simple instructions are inline, and so are the fast paths of pointer
//! moves (reference counts), frames, calls and returns, with runtime calls
//! for what needs the VM (see `glue`). The rest call
//! [`vm::native::exec_one`], the interpreter's implementation, and carry on
//! inline when it reports that execution goes on at the next instruction.

use std::collections::{BTreeSet, HashMap, HashSet};

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, Function, InstBuilder, JumpTableData, MemFlagsData, Signature, UserFuncName,
    Value,
};
use cranelift_codegen::isa::{self, TargetIsa};
use cranelift_codegen::{ir, Context};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use dis::Opcode as O;
use vm::module::{Inst, Mode, Module, Opnd};
use vm::native::{self, CTX_BUDGET, CTX_FP, CTX_MP, CTX_PC, CTX_SHADOW, CTX_STACK, CTX_STACK_FLOOR};
use vm::shadow::{self, Access};
use vm::stack::{
    frame_allows, LINK, REG_FP, REG_LR, REG_MR, REG_RET, REG_TYPE, STACK_BASE, STACK_LIMIT, STACK_SP,
    STACK_TOP,
};

use crate::{glue, slots};

const I64: ir::Type = types::I64;

/// The budget's bit in [`Translator::dirty`].
const BUDGET: u64 = 1 << 63;

/// Frames up to this many bytes are allocated and zeroed inline.
const INLINE_FRAME_BYTES: usize = 512;
/// Returns free up to this many pointer slots inline.
const INLINE_RET_POINTERS: usize = 8;

/// The Cranelift signature of compiled functions and of runtime calls.
pub fn signature(call_conv: isa::CallConv, params: &[ir::Type], ret: Option<ir::Type>) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    sig.returns.extend(ret.map(AbiParam::new));
    sig
}

/// What translating any function of a module needs to know of the whole.
pub struct ModuleFacts {
    /// The functions compiled code calls natively: each function's index
    /// by its entry pc, in the module's table of native entries at address
    /// `table` (entered at resume index 0, the entry).
    pub index: HashMap<usize, usize>,
    pub table: i64,
    /// The module data only the loader writes.
    pub constants: slots::Constants,
}

impl ModuleFacts {
    /// The address of the table slot holding the native entry of the
    /// function starting at `pc`.
    fn slot(&self, pc: usize) -> Option<i64> {
        let k = *self.index.get(&pc)?;
        Some(self.table + (k * std::mem::size_of::<glue::Entry>()) as i64)
    }
}

/// Runtime calls: a `glue` function and its signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Rt {
    ExecOne,
    Frame,
    Call,
    Ret,
    Release,
    Alloc,
    CompareStrings,
    Channel,
    Check,
}

impl Rt {
    fn addr(self) -> i64 {
        match self {
            Rt::ExecOne => glue::exec_one as *const () as i64,
            Rt::Frame => glue::frame as *const () as i64,
            Rt::Call => glue::call as *const () as i64,
            Rt::Ret => glue::ret as *const () as i64,
            Rt::Release => glue::release as *const () as i64,
            Rt::Alloc => glue::alloc as *const () as i64,
            Rt::CompareStrings => glue::compare_strings as *const () as i64,
            Rt::Channel => glue::channel as *const () as i64,
            Rt::Check => glue::check as *const () as i64,
        }
    }

    /// Parameters after `ctx`, and the result.
    fn shape(self) -> (&'static [ir::Type], Option<ir::Type>) {
        match self {
            Rt::ExecOne | Rt::Ret => (&[I64], Some(types::I32)),
            Rt::Frame | Rt::Alloc => (&[I64], Some(I64)),
            Rt::Call => (&[I64, I64, I64, I64], Some(types::I32)),
            Rt::Release => (&[I64], None),
            Rt::CompareStrings => (&[I64, I64], Some(I64)),
            Rt::Channel => (&[I64, I64, I64, I64], Some(types::I32)),
            Rt::Check => (&[I64, I64, I64], Some(types::I32)),
        }
    }
}

/// Memory flags for Dis memory: never trapping (the loader and inline
/// checks guarantee the address), not assumed aligned (hostile code may
/// misalign operands; loads and stores work anyway on both targets).
fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// How an operand's value is read or written.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Ty {
    B,
    W,
    F,
    /// A 16-bit integer (`cvtws`/`cvtsw`).
    S16,
    /// A 32-bit real (`cvtrf`/`cvtfr`).
    R32,
}

impl Ty {
    fn size(self) -> usize {
        match self {
            Ty::B => 1,
            Ty::S16 => 2,
            Ty::R32 => 4,
            Ty::W | Ty::F => 8,
        }
    }
}

/// Translates one function: `body` is its instructions in pc order.
pub struct Translator<'a> {
    m: &'a Module,
    b: FunctionBuilder<'a>,
    ctx: Value,
    fp: Value,
    mp: Value,
    /// Block of each body instruction.
    blocks: HashMap<usize, ir::Block>,
    /// Where inline branches join the instruction before: they start
    /// blocks of their own.
    joins: HashSet<usize>,
    /// The instruction whose code goes on in the current block, if the one
    /// before fell through to it as its only way in: straight-line code
    /// makes one block, not a block per instruction, which halves what
    /// Cranelift has to compile.
    merge: Option<(usize, ir::Block)>,
    /// Signatures of the runtime calls, by [`Rt`].
    rt_sigs: HashMap<Rt, ir::SigRef>,
    call_conv: isa::CallConv,
    /// The signature of compiled functions.
    entry_sig: ir::SigRef,
    /// The result address a compiled caller lent, having checked it is a
    /// word of plain data in its frame, or 0: while the result register
    /// still holds it, a result written there needs no check.
    lent: Variable,
    /// A result address a `lea` just stored into a frame's result register:
    /// the `lea`'s pc, the frame, and the slot of this frame it lends.
    lending: Option<(usize, Value, i64)>,
    facts: &'a ModuleFacts,
    /// The function's first block, which dominates all others.
    entry: ir::Block,
    /// The pcs inside loops (`slots::in_loops`).
    looping: HashSet<usize>,
    /// Constants of module data that loops read, loaded in `entry`.
    hoisted: HashMap<(i64, Ty), Value>,
    /// Frame slots kept in variables (see `slots`), by offset.
    cached: Vec<(i64, Variable, ir::Type)>,
    /// Where cached slots load, and what may be dirty at joins
    /// (`slots::reloads`).
    reloads: slots::Reloads,
    /// The preemption budget (`ctx.budget`), kept in a variable like the
    /// cached slots: stored and loaded with them.
    budget: Variable,
    /// Which variables may differ from memory where translation stands:
    /// bit k for `cached[k]`, [`BUDGET`] for the budget. Only those are
    /// stored when compiled code leaves.
    dirty: u64,
    /// The variables the function ever sets: what may differ from memory
    /// where control flow joins.
    writable: u64,
    /// Where the dispatcher may enter, found while translating: the entry,
    /// handlers, loop heads, and what follows calls and runtime calls.
    resume: BTreeSet<usize>,
    /// Values known not to be nil (addresses computed inline), whose use as
    /// the base of an indirect operand needs no check.
    nonnil: HashSet<Value>,
    /// What translation knows of pointers where it stands, until the
    /// runtime runs (it may free objects) or paths join: objects read from
    /// pointer slots, with their type's field bytes and pointer map, and
    /// element addresses with the bytes each element has.
    objects: HashMap<Value, (Value, Value)>,
    elems: HashMap<Value, Elem>,
    /// Pointers known to be nil or of a built-in kind, by its type.
    kinds: HashMap<Value, *const vm::types::Type>,
    /// What is kept of the arrays in the slots `slots::arrays` chose.
    arrays: HashMap<i64, ArrayVars>,
    /// Frames made in this function, by the value of their address:
    /// arguments stored through them are checked against their type, not
    /// the shadow map (which has no frames).
    new_frames: HashMap<Value, NewFrame>,
    /// Words of the frame not kept in variables whose value translation
    /// knows, having stored or loaded it, by offset, until something may
    /// have written them: a slot read again is not loaded again, so what is
    /// known of its value (a new frame, a kind, not nil) holds for each read.
    known_slots: HashMap<i64, Value>,
    /// For each of `new_frames`, the words among its first 64 that still
    /// hold the zero a new frame starts with, as far as translation knows:
    /// a pointer stored there replaces nil, so there is no reference to drop.
    fresh: HashMap<Value, u64>,
    /// The frame `frame` made last, while it is still the newest on the
    /// stack: until the runtime or a call may have made or freed frames.
    top: Option<Value>,
    /// The block exceptions raised where no handler of the function looks
    /// leave through, given the pc and the exit code.
    raise: Option<ir::Block>,
    /// The frame type the function's callers give it, where validation
    /// found one: what its `ret` expects to free.
    frame_type: Option<&'static vm::types::Type>,
}

/// What compiled code keeps of the array in a slot `slots::arrays` chose:
/// set where an index or `lena` checked it in full, zeroed wherever the
/// slot may have changed. While the length is not zero, the slot holds that
/// array: the next index needs only the bounds check.
#[derive(Clone, Copy)]
struct ArrayVars {
    /// How the function indexes it, which says what arrays are kept.
    how: slots::Indexing,
    /// Its length; 0 for nil, when not known, or when it is not an array
    /// `how` keeps.
    len: Variable,
    data: Variable,
    /// The size of its elements, unless `how` fixes it.
    esize: Option<Variable>,
    /// Whether its elements' first word is a pointer (read only where an
    /// element is written), unless they are bytes.
    first: Option<Variable>,
}

/// The exit code of an exception [`Translator::raise_if`] raises: known,
/// or a runtime call's result.
#[derive(Clone, Copy)]
enum RaiseCode {
    Fixed(u32),
    Of(Value),
}

/// What translation knows of the type of a frame the function made.
#[derive(Clone, Copy)]
enum NewFrame {
    /// `frame`: the type, known when translating.
    Typed(&'static vm::types::Type),
    /// `mframe`: the callee's type, known only when running; its size and
    /// the pointer map of its first 64 words, loaded once.
    Loaded { size: Value, map: Value },
}

/// An element address `indw`, `indl`, `indf` or `indb` computed: the bytes
/// the element has for sure (aligned, `interp::elem_fits`), and whether the
/// element type's first word is a pointer (1) or plain data (0).
#[derive(Clone, Copy)]
struct Elem {
    width: i64,
    first: First,
}

/// Whether an element's first word is a pointer: a value, or the variable
/// of a kept array, read only if an element is written.
#[derive(Clone, Copy)]
enum First {
    Value(Value),
    Kept(Variable),
}

impl<'a> Translator<'a> {
    /// Builds the IR of the function whose body is `body` into `func`.
    pub fn build(
        isa: &dyn TargetIsa,
        m: &'a Module,
        entry_pc: usize,
        body: &'a [usize],
        facts: &'a ModuleFacts,
        func: &'a mut Function,
        fctx: &'a mut FunctionBuilderContext,
    ) -> Vec<usize> {
        let call_conv = isa.default_call_conv();
        let entry_sig = signature(call_conv, &[I64, types::I32, I64], Some(types::I32));
        func.signature = entry_sig.clone();
        let mut b = FunctionBuilder::new(func, fctx);
        let rt_sigs = HashMap::new();
        let entry_sig = b.import_signature(entry_sig);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (ctx, resume) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let lent = b.declare_var(I64);
        let lent_param = b.block_params(entry)[2];
        b.def_var(lent, lent_param);
        let fp = b.ins().load(I64, mem(), ctx, CTX_FP);
        let mp = b.ins().load(I64, mem(), ctx, CTX_MP);
        // The entry jumps to a dispatch block filled last, when the resume
        // points are known.
        let dispatch = b.create_block();
        b.ins().jump(dispatch, &[]);
        let blocks: HashMap<usize, ir::Block> = body.iter().map(|&pc| (pc, b.create_block())).collect();
        let slots = slots::cached(m, body);
        let writable =
            slots.iter().enumerate().filter(|(_, c)| c.written).fold(BUDGET, |w, (k, _)| w | 1 << k);
        let cached = slots.iter().map(|c| (c.off, b.declare_var(c.ty), c.ty)).collect();
        let reloads = slots::reloads(m, entry_pc, body, &slots);
        let looping = slots::in_loops(m, body);
        let arrays = slots::arrays(m, body, &looping)
            .into_iter()
            .map(|(off, how)| {
                let mut var = || b.declare_var(I64);
                let (len, data) = (var(), var());
                let esize = matches!(how, slots::Indexing::Any { .. }).then(&mut var);
                let first = (how != slots::Indexing::Bytes).then(&mut var);
                (off, ArrayVars { how, len, data, esize, first })
            })
            .collect();
        let budget = b.declare_var(I64);
        // Where inline branches join the instruction before.
        let joins: HashSet<usize> = body.iter().filter_map(|&pc| slots::branch_target(&m.code[pc])).collect();
        let mut resume_at = BTreeSet::from([entry_pc]);
        for h in m.image.handlers.iter().flatten() {
            if body.iter().any(|&pc| (h.pc1 as usize..h.pc2 as usize).contains(&pc)) {
                let arms = h.cases.iter().map(|c| c.pc).chain([h.wildcard]);
                resume_at.extend(
                    arms.filter(|&pc| pc >= 0 && blocks.contains_key(&(pc as usize))).map(|pc| pc as usize),
                );
            }
        }
        let mut t = Translator {
            m,
            b,
            ctx,
            fp,
            mp,
            blocks,
            joins,
            merge: None,
            rt_sigs,
            call_conv,
            entry_sig,
            lent,
            lending: None,
            facts,
            entry,
            looping,
            hoisted: HashMap::new(),
            cached,
            reloads,
            budget,
            dirty: writable,
            writable,
            resume: resume_at,
            nonnil: HashSet::new(),
            objects: HashMap::new(),
            elems: HashMap::new(),
            kinds: HashMap::new(),
            arrays,
            new_frames: HashMap::new(),
            known_slots: HashMap::new(),
            fresh: HashMap::new(),
            top: None,
            raise: None,
            frame_type: m
                .analysis
                .functions
                .get(&entry_pc)
                .and_then(|f| f.frame_type)
                .map(|k| m.types[k as usize]),
        };
        for (k, &pc) in body.iter().enumerate() {
            if let Some((n, blk)) = t.merge.take() {
                debug_assert!(n == pc && t.b.current_block() == Some(blk), "pc {pc} merged where it fell");
                t.inst(pc, &m.code[pc], body.get(k + 1).copied().filter(|&n| n == pc + 1));
                continue;
            }
            t.lending = None;
            let blk = t.blocks[&pc];
            t.b.switch_to_block(blk);
            // What is dirty carries over from the instruction before only
            // when that is the sole inline way in (entries from the
            // dispatcher load what they need and mark nothing dirty, so
            // they add nothing); the entry's only way in is the dispatcher.
            if t.joins.contains(&pc) || (k > 0 && body[k - 1] != pc - 1) || (k == 0 && pc != entry_pc) {
                t.dirty = t.reloads.dirty.get(&pc).map_or(t.writable, |&d| d | BUDGET);
                t.forget_all();
            } else if k == 0 {
                t.dirty = 0;
                t.forget_all();
            } else if !t.resume.contains(&pc) {
                // Its only way in is from the instruction before.
                t.b.seal_block(blk);
            } else {
                t.forget_all();
            }
            let next = body.get(k + 1).copied().filter(|&n| n == pc + 1);
            t.inst(pc, &m.code[pc], next);
        }
        if let Some(raise) = t.raise {
            t.b.switch_to_block(raise);
            let (pc, exit) = (t.b.block_params(raise)[0], t.b.block_params(raise)[1]);
            t.b.ins().store(mem(), pc, t.ctx, CTX_PC);
            t.b.ins().return_(&[exit]);
        }
        // Resume index → a landing block that loads the cached slots, then
        // the instruction; the entry is index 0.
        let mut order: Vec<usize> = vec![entry_pc];
        order.extend(t.resume.iter().copied().filter(|&pc| pc != entry_pc && t.blocks.contains_key(&pc)));
        let landings: Vec<ir::Block> = order
            .iter()
            .map(|&pc| {
                let land = t.b.create_block();
                t.b.switch_to_block(land);
                t.reload_all(pc);
                let blk = t.blocks[&pc];
                t.b.ins().jump(blk, &[]);
                land
            })
            .collect();
        t.b.switch_to_block(dispatch);
        // Calls enter at the entry, index 0: straight there; the dispatcher
        // resumes anywhere through the table.
        let (table, bad) = (t.b.create_block(), t.b.create_block());
        t.b.ins().brif(resume, table, &[], landings[0], &[]);
        t.b.switch_to_block(table);
        let calls: Vec<_> = landings.iter().map(|&l| t.b.func.dfg.block_call(l, &[])).collect();
        let def = t.b.func.dfg.block_call(bad, &[]);
        let jt = t.b.create_jump_table(JumpTableData::new(def, &calls));
        t.b.ins().br_table(resume, jt);
        t.b.switch_to_block(bad);
        t.b.set_cold_block(bad);
        t.b.ins().trap(ir::TrapCode::unwrap_user(1));
        t.b.seal_all_blocks();
        t.b.finalize(isa.frontend_config());
        order
    }

    /// The variable holding the frame slot an operand names, if cached.
    fn slot_var(&self, o: &Opnd) -> Option<Variable> {
        self.slot_var_ty(o).map(|(var, _)| var)
    }

    /// As [`Self::slot_var`], with the variable's type.
    fn slot_var_ty(&self, o: &Opnd) -> Option<(Variable, ir::Type)> {
        if o.mode != Mode::Fp {
            return None;
        }
        self.cached.iter().find(|c| c.0 == o.v).map(|c| (c.1, c.2))
    }

    /// Stores one cached slot, for an access `slots` did not foresee.
    fn spill(&mut self, off: i64, var: Variable) {
        let v = self.b.use_var(var);
        self.b.ins().store(mem(), v, self.fp, off as i32);
        if let Some(k) = self.cached.iter().position(|c| c.0 == off) {
            self.dirty &= !(1 << k);
        }
    }

    /// Stores every variable that may differ from memory: memory is the
    /// truth from here. Cold paths flush too, so this leaves `dirty` alone.
    fn flush(&mut self) {
        for k in 0..self.cached.len() {
            if self.dirty & 1 << k != 0 {
                let (o, var, _) = self.cached[k];
                let v = self.b.use_var(var);
                self.b.ins().store(mem(), v, self.fp, o as i32);
            }
        }
        if self.dirty & BUDGET != 0 {
            self.store_budget();
        }
    }

    /// Loads the budget and the cached slots that instruction `at`, where
    /// compiled code goes on, needs (`slots::reloads`) from memory; forgets
    /// what memory may no longer hold.
    fn reload_all(&mut self, at: usize) {
        let wanted = self.reloads.at.get(&at).copied().unwrap_or(!0);
        for k in 0..self.cached.len() {
            if wanted & 1 << k == 0 {
                continue;
            }
            let (o, var, ty) = self.cached[k];
            let v = self.b.ins().load(ty, mem(), self.fp, o as i32);
            self.b.def_var(var, v);
        }
        let v = self.b.ins().load(I64, mem(), self.ctx, CTX_BUDGET);
        self.b.def_var(self.budget, v);
        self.dirty = 0;
        self.forget_frames();
        let slots: Vec<i64> = self.arrays.keys().copied().collect();
        for off in slots {
            self.forget_array(off);
        }
    }

    /// Forgets the array of slot `off`, if one is kept: its slot may have
    /// changed.
    fn forget_array(&mut self, off: i64) {
        if let Some(av) = self.arrays.get(&off).copied() {
            let zero = self.b.ins().iconst(I64, 0);
            for var in [Some(av.len), Some(av.data), av.esize, av.first].into_iter().flatten() {
                self.b.def_var(var, zero);
            }
        }
    }

    /// Keeps what an index or `lena` just checked of an array: its length
    /// `len`, its `data`, its elements' `size` and whether their `first`
    /// word is a pointer.
    fn keep_array(&mut self, av: ArrayVars, len: Value, data: Value, size: Value, first: Value) {
        // An array `how` does not keep is not: each use takes the full
        // checks.
        use slots::Indexing;
        let unfit = match av.how {
            Indexing::Bytes => self.b.ins().icmp_imm_s(IntCC::NotEqual, size, 1),
            Indexing::Words => self.b.ins().icmp_imm_s(IntCC::NotEqual, size, 8),
            // For the widest index used.
            Indexing::Any { words } => self.unfit(size, if words { 8 } else { 1 }),
        };
        let zero = self.b.ins().iconst(I64, 0);
        let len = self.b.ins().select(unfit, zero, len);
        self.b.def_var(av.len, len);
        self.b.def_var(av.data, data);
        if let Some(var) = av.esize {
            self.b.def_var(var, size);
        }
        if let Some(var) = av.first {
            self.b.def_var(var, first);
        }
    }

    fn store_budget(&mut self) {
        let v = self.b.use_var(self.budget);
        self.b.ins().store(mem(), v, self.ctx, CTX_BUDGET);
    }

    /// Spends `cost` of the budget; returns whether it is spent.
    fn spend(&mut self, cost: i64) -> Value {
        let left = self.b.use_var(self.budget);
        // Compared before the subtraction, so that the old and the new
        // value need not both be kept.
        let spent = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, left, cost);
        let left = self.b.ins().iadd_imm_s(left, -cost);
        self.b.def_var(self.budget, left);
        self.dirty |= BUDGET;
        spent
    }

    /// Continues at `pc`: inline when it is in the body, else by leaving.
    fn goto(&mut self, pc: usize) {
        match self.blocks.get(&pc) {
            Some(&blk) => {
                self.b.ins().jump(blk, &[]);
            }
            None => self.leave(native::EXIT_JUMP, pc),
        }
    }

    /// Leaves compiled code with `exit`, execution to go on at `pc`.
    fn leave(&mut self, exit: u32, pc: usize) {
        self.flush();
        self.exit(exit, pc);
    }

    /// Returns `exit` with `ctx.pc` set to `pc`; memory must be the truth.
    fn exit(&mut self, exit: u32, pc: usize) {
        let v = self.b.ins().iconst(I64, pc as i64);
        self.b.ins().store(mem(), v, self.ctx, CTX_PC);
        let e = self.b.ins().iconst(types::I32, exit as i64);
        self.b.ins().return_(&[e]);
    }

    /// Branches on `cond` to two new blocks, returned (taken first). Each
    /// has that one predecessor, so both are sealed at once: variables
    /// read in them resolve without placeholders.
    fn fork(&mut self, cond: Value) -> (ir::Block, ir::Block) {
        let (yes, no) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, yes, &[], no, &[]);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        (yes, no)
    }

    /// Leaves with `exit` at `pc` when `cond` holds: a runtime error, or a
    /// jump to the dispatcher.
    fn trap_if(&mut self, cond: Value, exit: u32, pc: usize) {
        let raises =
            matches!(exit, native::EXIT_BOUNDS | native::EXIT_NILREF | native::EXIT_ZDIV | native::EXIT_SEGV);
        if raises && !slots::handled(self.m, pc) {
            return self.raise_if(cond, RaiseCode::Fixed(exit), pc);
        }
        let (trap, ok) = self.fork(cond);
        self.b.set_cold_block(trap);
        self.b.switch_to_block(trap);
        self.leave(exit, pc);
        self.b.switch_to_block(ok);
    }

    /// Leaves with exception `exit` raised at `pc`, where no handler of
    /// the function covers it, when `cond` holds: through one block all
    /// such exits share, which stores nothing of the frame.
    fn raise_if(&mut self, cond: Value, exit: RaiseCode, pc: usize) {
        let raise = *self.raise.get_or_insert_with(|| {
            let blk = self.b.create_block();
            self.b.append_block_param(blk, I64);
            self.b.append_block_param(blk, types::I32);
            self.b.set_cold_block(blk);
            blk
        });
        // The pc is set on the way, so that the way on does not pay for it.
        let (site, ok) = self.fork(cond);
        self.b.set_cold_block(site);
        self.b.switch_to_block(site);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let exit = match exit {
            RaiseCode::Fixed(e) => self.b.ins().iconst(types::I32, e as i64),
            RaiseCode::Of(v) => v,
        };
        self.b.ins().jump(raise, &[BlockArg::Value(pcv), BlockArg::Value(exit)]);
        self.b.switch_to_block(ok);
    }

    /// The address an operand names.
    fn addr(&mut self, o: &Opnd, pc: usize) -> Value {
        match o.mode {
            Mode::Fp => self.b.ins().iadd_imm_s(self.fp, o.v),
            Mode::Mp => self.b.ins().iadd_imm_s(self.mp, o.v),
            Mode::Imm => {
                let cell = self.m.imms[o.base as usize].as_ptr() as i64;
                self.b.ins().iconst(I64, cell)
            }
            Mode::IndFp | Mode::IndMp => self.indirect(o, pc).1,
            Mode::None => unreachable!("validated operand"),
        }
    }

    /// The base and the address of indirect operand `o`, checked for its
    /// access.
    fn indirect(&mut self, o: &Opnd, pc: usize) -> (Value, Value) {
        let base_slot = Opnd { mode: Mode::Fp, v: o.base as i64, ..*o };
        let p = match self.slot_var(&base_slot) {
            Some(var) if o.mode == Mode::IndFp => self.b.use_var(var),
            _ if o.mode == Mode::IndFp => self.load_slot(base_slot.v),
            _ => self.b.ins().load(I64, mem(), self.mp, o.base as i32),
        };
        if !self.nonnil.contains(&p) {
            let nil = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
            self.trap_if(nil, native::EXIT_NILREF, pc);
        }
        let a = self.b.ins().iadd_imm_s(p, o.v);
        let elem = self
            .elems
            .get(&p)
            .copied()
            .filter(|e| o.v + o.size as i64 <= e.width && shadow::aligned(o.v as usize, o.size as usize));
        let (at, size) = (o.v as usize, o.size as usize);
        let in_first_words = at + size <= 512 && shadow::aligned(at, size);
        match self.new_frames.get(&p).copied() {
            _ if o.size == 0 => {}
            Some(NewFrame::Typed(t)) if frame_allows(t, at, size, o.acc) => {}
            Some(NewFrame::Loaded { size: fsize, map })
                if at >= REG_RET && in_first_words && (o.acc != Access::Ptr || size == 8) =>
            {
                self.check_loaded_frame(a, fsize, map, o, pc)
            }
            _ if o.mode == Mode::IndFp && o.base as usize == REG_RET => {
                if o.v == 0 && o.size <= 8 && o.acc != Access::Ptr {
                    // The address a compiled caller lent (never nil: `p`
                    // is not) is a word of plain data.
                    let lent = self.b.use_var(self.lent);
                    let same = self.b.ins().icmp(IntCC::Equal, p, lent);
                    let (check, done) = (self.b.create_block(), self.b.create_block());
                    self.b.ins().brif(same, done, &[], check, &[]);
                    self.b.seal_block(check);
                    self.b.switch_to_block(check);
                    self.check_result_access(a, o.size, o.acc, pc);
                    self.b.ins().jump(done, &[]);
                    self.b.seal_block(done);
                    self.b.switch_to_block(done);
                } else {
                    self.check_result_access(a, o.size, o.acc, pc)
                }
            }
            _ => match elem {
                Some(e) => self.check_elem(e, o, pc),
                None if in_first_words && self.holds_object(o, pc) => self.check_field(p, a, o, pc),
                None => self.check_access(a, o.size, o.acc, pc),
            },
        }
        (p, a)
    }

    /// What the base slot of indirect operand `o` holds, if translation
    /// has it at hand without a load.
    fn known_base(&mut self, o: &Opnd) -> Option<Value> {
        let base = o.base as i64;
        match self.cached.iter().find(|c| c.0 == base) {
            Some(&(_, var, _)) => Some(self.b.use_var(var)),
            None => self.known_slots.get(&base).copied(),
        }
    }

    /// The address indirect operand `o` writes, and whether its bytes held
    /// zero for sure: a write into a frame this function made is noted
    /// there (see [`Self::fresh`]); any other may reach this frame's words,
    /// so what translation knows of them goes.
    fn indirect_write(&mut self, o: &Opnd, pc: usize) -> (Value, bool) {
        let (p, a) = self.indirect(o, pc);
        if self.new_frames.contains_key(&p) {
            (a, self.write_fresh(p, o.v, o.size))
        } else {
            self.forget_frames();
            (a, false)
        }
    }

    /// Checks an access inside the first word of an element just bounded
    /// (`e`): any read, a write of plain data, a pointer in a pointer slot,
    /// by the element type's map. Anything else is refused, as the runtime's
    /// check would (the element is in the heap, in no frame): a fault, with
    /// no call in the way of the registers of a loop.
    fn check_elem(&mut self, e: Elem, o: &Opnd, pc: usize) {
        if o.acc == Access::Read {
            return;
        }
        let refuse = if o.acc == Access::Write { IntCC::NotEqual } else { IntCC::Equal };
        let first = match e.first {
            First::Value(v) => v,
            First::Kept(var) => self.b.use_var(var),
        };
        let refused = self.b.ins().icmp_imm_s(refuse, first, 0);
        self.trap_if(refused, native::EXIT_SEGV, pc);
    }

    /// Checks an access to a frame `mframe` made, inside its first 64
    /// words and past its registers, by its type's size and map: it fits,
    /// and writes plain data over plain words or a pointer into a pointer
    /// slot; anything else goes to the runtime's check
    /// ([`Self::unless_allowed`]).
    fn check_loaded_frame(&mut self, a: Value, fsize: Value, map: Value, o: &Opnd, pc: usize) {
        let end = o.v + (o.size as i64).max(1);
        let mut ok = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, fsize, end);
        let words = (o.v / 8)..=((end - 1) / 8);
        let mask = words.fold(0u64, |m, w| m | 1 << w) as i64;
        let want = match o.acc {
            Access::Read => None,
            Access::Write => Some(IntCC::Equal),
            Access::Ptr => Some(IntCC::NotEqual),
        };
        if let Some(cc) = want {
            let bits = self.b.ins().band_imm_s(map, mask);
            let kind = self.b.ins().icmp_imm_s(cc, bits, 0);
            ok = self.b.ins().band(ok, kind);
        }
        self.unless_allowed(ok, a, o.size, o.acc, pc);
    }

    /// Forgets what [`Self::objects`], [`Self::elems`] and [`Self::kinds`]
    /// say: the runtime may have freed objects. (The frame's slots change
    /// only where the variables are loaded again, see `reload_all`.)
    fn forget_pointers(&mut self) {
        self.objects.clear();
        self.elems.clear();
        self.kinds.clear();
    }

    /// Forgets all that translation knows of memory, where paths join.
    fn forget_all(&mut self) {
        self.forget_pointers();
        self.forget_frames();
    }

    /// Forgets what [`Self::known_slots`] and [`Self::fresh`] say: memory
    /// may have been written behind translation's back.
    fn forget_frames(&mut self) {
        self.known_slots.clear();
        self.fresh.clear();
        self.top = None;
    }

    /// The word at `off` in the frame, a slot not kept in a variable:
    /// loaded, unless translation knows it.
    fn load_slot(&mut self, off: i64) -> Value {
        if let Some(&v) = self.known_slots.get(&off) {
            return v;
        }
        let v = self.b.ins().load(I64, mem(), self.fp, off as i32);
        self.known_slots.insert(off, v);
        v
    }

    /// Notes that `size` bytes at `off` in the frame are written, with
    /// `word` if that is what the word at `off` now holds.
    fn write_slot(&mut self, off: i64, size: u8, word: Option<Value>) {
        let end = off + (size as i64).max(1);
        self.known_slots.retain(|&at, _| at + 8 <= off || at >= end);
        let arrays: Vec<i64> = self.arrays.keys().copied().filter(|&at| at < end && off < at + 8).collect();
        for at in arrays {
            self.forget_array(at);
        }
        if let Some(v) = word {
            self.known_slots.insert(off, v);
        }
    }

    /// Notes that `size` bytes at `at` in frame `f` (one of `new_frames`)
    /// were written; returns whether they all held zero before.
    fn write_fresh(&mut self, f: Value, at: i64, size: u8) -> bool {
        let Some(words) = self.fresh.get_mut(&f) else { return false };
        let (first, last) = (at / 8, (at + (size as i64).max(1) - 1) / 8);
        if !(0..64).contains(&first) || last >= 64 {
            return false;
        }
        let mask = (first..=last).fold(0u64, |m, w| m | 1 << w);
        let was = *words & mask == mask;
        *words &= !mask;
        was
    }

    /// Whether the base of indirect operand `o` at `pc` is a pointer slot,
    /// which holds nil or a live object: of the function's frame type (the
    /// only type its frames have, unless another function shares the code)
    /// or of the module data's.
    fn holds_object(&self, o: &Opnd, pc: usize) -> bool {
        let t = match o.mode {
            Mode::IndFp if !self.m.analysis.shared.get(pc).copied().unwrap_or(true) => self.frame_type,
            Mode::IndMp => self.m.types.first().copied(),
            _ => None,
        };
        t.is_some_and(|t| t.is_pointer(o.base as usize))
    }

    /// Checks an access at `o.v` (below 512, aligned) in the live object
    /// `p` by its type: inside its fields, and plain data or a pointer slot
    /// as the access needs. The type's bounds and map are loaded once per
    /// object where nothing can have freed it; what they refuse goes to the
    /// runtime's check ([`Self::unless_allowed`]), which raises.
    fn check_field(&mut self, p: Value, a: Value, o: &Opnd, pc: usize) {
        let (limit, map) = match self.objects.get(&p).copied() {
            Some(known) => known,
            None => {
                let ty = self.b.ins().load(I64, mem(), p, vm::heap::TYPE);
                let ro = MemFlagsData::trusted().with_readonly();
                let limit = self.b.ins().load(I64, ro, ty, vm::types::TYPE_FIELD_BYTES);
                let map = self.b.ins().load(I64, ro, ty, vm::types::TYPE_SMALL_MAP);
                self.objects.insert(p, (limit, map));
                (limit, map)
            }
        };
        let (off, size) = (o.v as u64, o.size as u64);
        let mut ok = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, limit, (off + size) as i64);
        let first = off / 8;
        let words = (off + size).div_ceil(8) - first;
        let span = (((1u128 << words) - 1) << first) as u64;
        match o.acc {
            Access::Read => {}
            Access::Write => {
                let ptrs = self.b.ins().band_imm_s(map, span as i64);
                let none = self.b.ins().icmp_imm_s(IntCC::Equal, ptrs, 0);
                ok = self.b.ins().band(ok, none);
            }
            Access::Ptr => {
                let ptr = self.b.ins().band_imm_s(map, span as i64);
                let set = self.b.ins().icmp_imm_s(IntCC::NotEqual, ptr, 0);
                ok = self.b.ins().band(ok, set);
            }
        }
        self.unless_allowed(ok, a, o.size, o.acc, pc);
    }

    /// Checks an access through the result address, which is most often
    /// a slot of the caller's frame: that is tried inline first, by the
    /// caller's frame type, and anything else checked as any address.
    fn check_result_access(&mut self, a: Value, size: u8, acc: Access, pc: usize) {
        let caller = self.b.ins().load(I64, mem(), self.fp, REG_FP as i32);
        // A thread's first frame has no caller.
        let (has_caller, other, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.ins().brif(caller, has_caller, &[], other, &[]);
        self.b.seal_block(has_caller);
        self.b.switch_to_block(has_caller);
        let t = self.b.ins().load(I64, mem(), caller, REG_TYPE as i32);
        let o = self.b.ins().isub(a, caller);
        let ok = if size == 8 {
            // A whole word: aligned, in the first 64 words, and a word of
            // the kind the access needs (`Type::frame_words`, `small_map`).
            let ro = MemFlagsData::trusted().with_readonly();
            let map = match acc {
                Access::Write => self.b.ins().load(I64, ro, t, vm::types::TYPE_FRAME_WORDS),
                Access::Ptr => self.b.ins().load(I64, ro, t, vm::types::TYPE_SMALL_MAP),
                Access::Read => {
                    let words = self.b.ins().load(I64, ro, t, vm::types::TYPE_FRAME_WORDS);
                    let ptrs = self.b.ins().load(I64, ro, t, vm::types::TYPE_SMALL_MAP);
                    self.b.ins().bor(words, ptrs)
                }
            };
            let stray = self.b.ins().band_imm_s(o, !(63 << 3));
            let placed = self.b.ins().icmp_imm_s(IntCC::Equal, stray, 0);
            let word = self.b.ins().ushr_imm_s(o, 3);
            let bit = self.b.ins().ushr(map, word);
            let bit = self.b.ins().band_imm_s(bit, 1);
            let kind = self.b.ins().icmp_imm_s(IntCC::NotEqual, bit, 0);
            self.b.ins().band(placed, kind)
        } else {
            let fsize = self.b.ins().load(I64, mem(), t, vm::types::TYPE_SIZE);
            let map = self.b.ins().load(I64, mem(), t, vm::types::TYPE_SMALL_MAP);
            // Past the registers, inside the frame and its first 64 words.
            let past_regs = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, o, REG_RET as i64);
            let below = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, o, 512);
            let end = self.b.ins().iadd_imm_s(o, size as i64);
            let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, fsize);
            let mut ok = self.b.ins().band(past_regs, below);
            ok = self.b.ins().band(ok, fits);
            ok = self.and_aligned(ok, o, size);
            let word = self.b.ins().ushr_imm_s(o, 3);
            let word = self.b.ins().band_imm_s(word, 63);
            let bit = self.b.ins().ushr(map, word);
            let bit = self.b.ins().band_imm_s(bit, 1);
            match acc {
                Access::Read => ok,
                Access::Write => {
                    let plain = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 0);
                    self.b.ins().band(ok, plain)
                }
                Access::Ptr => {
                    let ptr = self.b.ins().icmp_imm_s(IntCC::NotEqual, bit, 0);
                    self.b.ins().band(ok, ptr)
                }
            }
        };
        self.b.ins().brif(ok, done, &[], other, &[]);
        self.b.seal_block(other);
        self.b.set_cold_block(other);
        self.b.switch_to_block(other);
        self.check_access(a, size, acc, pc);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// `ok`, and that `size` bytes at `x` (an address, or an offset from an
    /// aligned one) are aligned as `shadow::aligned` requires: a word or
    /// more on a word boundary, anything smaller within one word.
    fn and_aligned(&mut self, ok: Value, x: Value, size: u8) -> Value {
        if size <= 1 {
            return ok;
        }
        let low3 = self.b.ins().band_imm_s(x, 7);
        let aligned = if size >= 8 {
            self.b.ins().icmp_imm_s(IntCC::Equal, low3, 0)
        } else {
            self.b.ins().icmp_imm_s(IntCC::UnsignedLessThanOrEqual, low3, 8 - size as i64)
        };
        self.b.ins().band(ok, aligned)
    }

    /// Checks that the `size` bytes at `a`, a computed address, allow
    /// `acc`: inline by the heap's shadow map (as `Shadow::allows` does),
    /// and out of line for what it refuses, which may be a frame or an
    /// immediate; leaves with the exception if that refuses it too.
    fn check_access(&mut self, a: Value, size: u8, acc: Access, pc: usize) {
        let ro = MemFlagsData::trusted().with_readonly();
        let table = self.b.ins().load(I64, ro, self.ctx, CTX_SHADOW);
        let hi = self.b.ins().ushr_imm_s(a, shadow::CHUNK_BITS as i64);
        let limit = self.b.ins().iconst(I64, shadow::TOP_LIMIT as i64);
        let k = self.b.ins().umin(hi, limit);
        let k = self.b.ins().ishl_imm_s(k, 3);
        let entry = self.b.ins().iadd(table, k);
        let chunk = self.b.ins().load(I64, MemFlagsData::trusted(), entry, 0);
        let chunk = self.b.ins().iadd_imm_s(chunk, shadow::zero_chunk() as i64);
        let low = self.b.ins().band_imm_s(a, (1i64 << shadow::CHUNK_BITS) - 1);
        let w = self.b.ins().ushr_imm_s(low, 5);
        let w = self.b.ins().band_imm_s(w, !7);
        let w = self.b.ins().iadd(chunk, w);
        let tags = self.b.ins().load(I64, MemFlagsData::trusted(), w, 0);
        let shift = self.b.ins().ushr_imm_s(a, 2);
        let shift = self.b.ins().band_imm_s(shift, 62);
        let tag = self.b.ins().ushr(tags, shift);
        let tag = self.b.ins().band_imm_s(tag, 3);
        let mut ok = match acc {
            // DATA or PTR: tag - 1 is 0 or 1.
            Access::Read => {
                let t = self.b.ins().iadd_imm_s(tag, -(shadow::DATA as i64));
                self.b.ins().icmp_imm_s(IntCC::UnsignedLessThanOrEqual, t, 1)
            }
            Access::Write => self.b.ins().icmp_imm_s(IntCC::Equal, tag, shadow::DATA as i64),
            Access::Ptr => self.b.ins().icmp_imm_s(IntCC::Equal, tag, shadow::PTR as i64),
        };
        ok = self.and_aligned(ok, a, size);
        self.unless_allowed(ok, a, size, acc, pc);
    }

    /// Goes on where `ok` holds; where it does not, asks the runtime, which
    /// knows frames and immediates too, and leaves with the exception it
    /// raises if it refuses the access.
    fn unless_allowed(&mut self, ok: Value, a: Value, size: u8, acc: Access, pc: usize) {
        let (good, slow) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(ok, good, &[], slow, &[]);
        self.b.seal_block(slow);
        self.b.set_cold_block(slow);
        self.b.switch_to_block(slow);
        let size = self.b.ins().iconst(I64, size as i64);
        let acc = self.b.ins().iconst(I64, acc as u8 as i64);
        // Where the runtime refuses the access, `r` is the exception.
        let r = self.rt(Rt::Check, &[a, size, acc]).expect("an exit code");
        if !slots::handled(self.m, pc) {
            self.raise_if(r, RaiseCode::Of(r), pc);
            self.b.ins().jump(good, &[]);
            self.b.seal_block(good);
            self.b.switch_to_block(good);
            return;
        }
        let bad = self.b.create_block();
        self.b.ins().brif(r, bad, &[], good, &[]);
        self.b.seal_block(bad);
        self.b.set_cold_block(bad);
        self.b.switch_to_block(bad);
        self.flush();
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.b.ins().store(mem(), pcv, self.ctx, CTX_PC);
        self.b.ins().return_(&[r]);
        self.b.seal_block(good);
        self.b.switch_to_block(good);
    }

    fn load(&mut self, o: &Opnd, ty: Ty, pc: usize) -> Value {
        if o.mode == Mode::Imm {
            match ty {
                Ty::B => return self.b.ins().iconst(I64, o.v as u8 as i64),
                Ty::W => return self.b.ins().iconst(I64, o.v),
                Ty::S16 => return self.b.ins().iconst(I64, o.v as i16 as i64),
                Ty::F | Ty::R32 => {}
            }
        }
        if let Some((var, vty)) = self.slot_var_ty(o) {
            match ty {
                Ty::W | Ty::F => {
                    let v = self.b.use_var(var);
                    let want = if ty == Ty::F { types::F64 } else { I64 };
                    return if want == vty { v } else { self.b.ins().bitcast(want, MemFlagsData::new(), v) };
                }
                // Not a width `slots` keeps; memory has it, as below.
                _ => self.spill(o.v, var),
            }
        }
        if o.mode == Mode::Fp && ty == Ty::W {
            return self.load_slot(o.v);
        }
        if o.mode == Mode::Mp && self.facts.constants.holds(o.v, ty.size()) {
            return self.constant(o.v, ty, pc);
        }
        let a = self.addr(o, pc);
        load_as(&mut self.b.cursor(), mem(), a, 0, ty)
    }

    /// A constant of module data ([`slots::Constants`]) read at `pc`.
    /// Loops read theirs from a load at the function's entry: Cranelift's
    /// loop-invariant code motion would hoist a load it may move, but
    /// gives up on a loop past its first exit.
    fn constant(&mut self, off: i64, ty: Ty, pc: usize) -> Value {
        // Not a load Cranelift may move: it would sink it back into loops.
        let constant = MemFlagsData::trusted().with_readonly();
        if !self.looping.contains(&pc) {
            return load_as(&mut self.b.cursor(), constant, self.mp, off, ty);
        }
        if let Some(&v) = self.hoisted.get(&(off, ty)) {
            return v;
        }
        let mut at_entry = FuncCursor::new(self.b.func).at_last_inst(self.entry);
        let v = load_as(&mut at_entry, constant, self.mp, off, ty);
        self.hoisted.insert((off, ty), v);
        v
    }

    fn store(&mut self, o: &Opnd, ty: Ty, v: Value, pc: usize) {
        if let Some((var, vty)) = self.slot_var_ty(o) {
            if matches!(ty, Ty::W | Ty::F) {
                let have = self.b.func.dfg.value_type(v);
                let v = if have == vty { v } else { self.b.ins().bitcast(vty, MemFlagsData::new(), v) };
                self.b.def_var(var, v);
                let k = self.cached.iter().position(|c| c.0 == o.v).expect("a cached slot");
                debug_assert!(self.writable & 1 << k != 0, "slot {} written, not foreseen", o.v);
                self.dirty |= 1 << k;
                return;
            }
            // A narrower write: to memory, whence the variable is reloaded.
            self.spill(o.v, var);
            let a = self.b.ins().iadd_imm_s(self.fp, o.v);
            match ty {
                Ty::B => self.b.ins().istore8(mem(), v, a, 0),
                Ty::S16 => self.b.ins().istore16(mem(), v, a, 0),
                _ => self.b.ins().store(mem(), v, a, 0),
            };
            let r = self.b.ins().load(vty, mem(), self.fp, o.v as i32);
            self.b.def_var(var, r);
            return;
        }
        let a = match o.mode {
            Mode::Fp => {
                self.write_slot(o.v, o.size, Some(v).filter(|_| ty == Ty::W));
                self.addr(o, pc)
            }
            Mode::IndFp | Mode::IndMp => self.indirect_write(o, pc).0,
            _ => self.addr(o, pc),
        };
        match ty {
            Ty::B => self.b.ins().istore8(mem(), v, a, 0),
            Ty::S16 => self.b.ins().istore16(mem(), v, a, 0),
            Ty::W | Ty::F | Ty::R32 => self.b.ins().store(mem(), v, a, 0),
        };
    }

    /// The middle operand, or the destination when it is absent.
    fn mid(i: &Inst) -> &Opnd {
        if i.mid.mode == Mode::None {
            &i.dst
        } else {
            &i.mid
        }
    }

    /// `dst = mid op src` on integers of type `ty`.
    fn arith(&mut self, i: &Inst, ty: Ty, pc: usize, f: fn(&mut FunctionBuilder, Value, Value) -> Value) {
        let b = self.load(&i.src, ty, pc);
        let a = self.load(Self::mid(i), ty, pc);
        let r = f(&mut self.b, a, b);
        self.store(&i.dst, ty, r, pc);
    }

    /// Conditional branch to `dst` when `cond(mid-or-src...)` holds.
    fn branch(&mut self, cond: Value, pc: usize, target: usize, next: Option<usize>) {
        let (taken, fall) = self.fork(cond);
        self.b.switch_to_block(taken);
        self.jump(pc, target);
        self.b.switch_to_block(fall);
        self.fall(pc, next);
    }

    /// An unconditional transfer to `target`; backward ones spend budget.
    fn jump(&mut self, pc: usize, target: usize) {
        if target <= pc {
            self.resume.insert(target);
            let cost = (pc - target + 1) as i64;
            let spent = self.spend(cost);
            let (out, go) = self.fork(spent);
            self.b.set_cold_block(out);
            self.b.switch_to_block(out);
            self.leave(native::EXIT_YIELD, target);
            self.b.switch_to_block(go);
        }
        self.goto(target);
    }

    /// Goes on to the next instruction: in the current block when nothing
    /// else reaches it. Called last in an instruction's translation.
    fn fall(&mut self, pc: usize, next: Option<usize>) {
        debug_assert!(self.merge.is_none(), "pc {pc} falls through twice");
        match next {
            Some(n) if !self.joins.contains(&n) && !self.resume.contains(&n) => {
                self.merge = self.b.current_block().map(|blk| (n, blk));
            }
            Some(n) => self.goto(n),
            None => self.leave(native::EXIT_JUMP, pc + 1),
        }
    }

    /// Calls the runtime: `ctx` and `args`; returns its result, if any.
    fn rt(&mut self, rt: Rt, args: &[Value]) -> Option<Value> {
        // The runtime may free objects, and with them what is known of them.
        if rt != Rt::Check {
            self.forget_pointers();
        }
        let f = self.b.ins().iconst(I64, rt.addr());
        let args: Vec<Value> = std::iter::once(self.ctx).chain(args.iter().copied()).collect();
        let sig = match self.rt_sigs.get(&rt) {
            Some(&sig) => sig,
            None => {
                let (params, ret) = rt.shape();
                let params: Vec<ir::Type> = std::iter::once(I64).chain(params.iter().copied()).collect();
                let sig = self.b.import_signature(signature(self.call_conv, &params, ret));
                self.rt_sigs.insert(rt, sig);
                sig
            }
        };
        let call = self.b.ins().call_indirect(sig, f, &args);
        self.b.inst_results(call).first().copied()
    }

    /// Leaves with exit code `r` unless it is [`native::EXIT_NONE`].
    fn leave_unless_none(&mut self, r: Value) {
        let on = self.b.create_block();
        let out = self.b.create_block();
        let rv = self.b.append_block_param(out, types::I32);
        self.b.set_cold_block(out);
        self.b.ins().brif(r, out, &[BlockArg::Value(r)], on, &[]);
        self.b.seal_block(out);
        self.b.seal_block(on);
        self.b.switch_to_block(out);
        self.b.ins().return_(&[rv]);
        self.b.switch_to_block(on);
    }

    /// Runs the instruction with the interpreter, then goes on.
    fn call_runtime(&mut self, pc: usize, next: Option<usize>) {
        self.run_in_runtime(pc, true);
        self.fall(pc, next);
    }

    /// Runs the instruction with the interpreter. The dispatcher can enter
    /// the next instruction if `resumable`; that costs the straight-line
    /// code there what translation knew.
    fn run_in_runtime(&mut self, pc: usize, resumable: bool) {
        self.flush();
        if resumable {
            self.resume.insert(pc + 1);
        }
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let r = self.rt(Rt::ExecOne, &[pcv]).expect("an exit code");
        self.leave_unless_none(r);
        // Not only its operands: an exception it raised and a handler at
        // the next instruction caught may have rewritten the frame.
        self.reload_all(pc + 1);
    }

    /// Leaves with `sys: segmentation violation` unless object `p` (not
    /// nil) is of type `t`, a built-in kind's (as `interp::of_kind`).
    fn check_kind(&mut self, p: Value, t: &'static vm::types::Type, pc: usize) {
        if self.kinds.get(&p) == Some(&(t as *const _)) {
            return;
        }
        let ty = self.b.ins().load(I64, mem(), p, vm::heap::TYPE);
        let wrong = self.b.ins().icmp_imm_s(IntCC::NotEqual, ty, t as *const _ as i64);
        self.trap_if(wrong, native::EXIT_SEGV, pc);
        self.kinds.insert(p, t);
    }

    /// Adds a reference to the object `v` (nil aside).
    fn retain(&mut self, v: Value) {
        let some = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(v, some, &[], done, &[]);
        self.b.seal_block(some);
        self.b.switch_to_block(some);
        let r = self.b.ins().uload32(mem(), v, vm::heap::REFS);
        let r = self.b.ins().iadd_imm_s(r, 1);
        self.b.ins().istore32(mem(), r, v, vm::heap::REFS);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// Drops a reference to the object `v` (nil aside); the runtime
    /// destroys it when that was the last.
    fn drop_ref(&mut self, v: Value) {
        let some = self.b.create_block();
        let last = self.b.create_block();
        let more = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(v, some, &[], done, &[]);
        self.b.seal_block(some);
        self.b.switch_to_block(some);
        let r = self.b.ins().uload32(mem(), v, vm::heap::REFS);
        let one = self.b.ins().icmp_imm_s(IntCC::Equal, r, 1);
        self.b.ins().brif(one, last, &[], more, &[]);
        self.b.seal_block(last);
        self.b.seal_block(more);
        self.b.switch_to_block(last);
        self.b.set_cold_block(last);
        self.rt(Rt::Release, &[v]);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(more);
        let r = self.b.ins().iadd_imm_s(r, -1);
        self.b.ins().istore32(mem(), r, v, vm::heap::REFS);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// Stores pointer `v`, which carries a reference, at `a`, dropping the
    /// reference of the pointer it replaces. Callers resolve `a` before
    /// they take the reference, so that a nil base raises with nothing
    /// retained, as in the interpreter.
    fn put_ptr(&mut self, (a, was_nil): (Value, bool), v: Value) {
        if was_nil {
            self.b.ins().store(mem(), v, a, 0);
            return;
        }
        let old = self.b.ins().load(I64, mem(), a, 0);
        self.b.ins().store(mem(), v, a, 0);
        self.drop_ref(old);
    }

    /// The address a pointer is stored at, for [`Self::put_ptr`], and
    /// whether it holds nil for sure: a slot of a frame made here that
    /// nothing has written yet.
    fn ptr_dest(&mut self, o: &Opnd, pc: usize) -> (Value, bool) {
        match o.mode {
            Mode::IndFp | Mode::IndMp => self.indirect_write(o, pc),
            Mode::Fp => {
                self.write_slot(o.v, o.size, None);
                (self.addr(o, pc), false)
            }
            _ => (self.addr(o, pc), false),
        }
    }

    /// The address of type `k` of the module, as a constant.
    fn type_addr(&mut self, k: i64) -> Value {
        let t: *const vm::types::Type = self.m.types[k as usize];
        self.b.ins().iconst(I64, t as i64)
    }

    /// The thread's stack.
    fn stack(&mut self) -> Value {
        // The same for the whole run: loaded once where it can be.
        self.b.ins().load(I64, MemFlagsData::trusted().with_readonly(), self.ctx, CTX_STACK)
    }

    /// `frame $k`: a zeroed frame of type `k` on the thread's stack, bumped
    /// inline from the current segment as [`vm::stack::Stack::alloc`] does;
    /// a full segment, or a large frame, is the runtime's.
    fn frame(&mut self, k: i64) -> Value {
        let size = vm::stack::frame_bytes(self.m.types[k as usize]);
        let t = self.type_addr(k);
        if size > INLINE_FRAME_BYTES {
            return self.rt(Rt::Frame, &[t]).expect("a frame");
        }
        let st = self.stack();
        let sp = self.b.ins().load(I64, mem(), st, STACK_SP);
        let limit = self.b.ins().load(I64, mem(), st, STACK_LIMIT);
        let end = self.b.ins().iadd_imm_s(sp, (LINK + size) as i64);
        let full = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, limit);
        let (fast, slow, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let f = self.b.append_block_param(done, I64);
        self.b.set_cold_block(slow);
        self.b.ins().brif(full, slow, &[], fast, &[]);
        self.b.seal_block(slow);
        self.b.seal_block(fast);
        self.b.switch_to_block(slow);
        let g = self.rt(Rt::Frame, &[t]).expect("a frame");
        self.b.ins().jump(done, &[BlockArg::Value(g)]);
        self.b.switch_to_block(fast);
        let top = self.b.ins().load(I64, mem(), st, STACK_TOP);
        self.b.ins().store(mem(), top, sp, 0);
        let g = self.b.ins().iadd_imm_s(sp, LINK as i64);
        let zero = self.b.ins().iconst(I64, 0);
        let zeros = self.b.ins().splat(types::I64X2, zero);
        let mut off = 0;
        while off + 16 <= size {
            self.b.ins().store(mem(), zeros, g, off as i32);
            off += 16;
        }
        if off < size {
            self.b.ins().store(mem(), zero, g, off as i32);
        }
        self.b.ins().store(mem(), t, g, REG_TYPE as i32);
        self.b.ins().store(mem(), g, st, STACK_TOP);
        self.b.ins().store(mem(), end, st, STACK_SP);
        self.b.ins().jump(done, &[BlockArg::Value(g)]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        f
    }

    /// Leaves with `exit` for the dispatcher to continue at `pc` in frame `f`.
    fn leave_to(&mut self, exit: u32, f: Value, pc: usize) {
        self.b.ins().store(mem(), f, self.ctx, CTX_FP);
        self.exit(exit, pc);
    }

    /// `call`: the Dis half inline (as [`native::call`], which takes the
    /// cases it does not handle), then the callee's compiled code natively,
    /// continuing inline when it returns here.
    fn call(&mut self, i: &Inst, pc: usize, next: Option<usize>) {
        let target = i.dst.imm() as usize;
        let f = self.load(&i.src, Ty::W, pc);
        // A result address the instruction before lent the callee, if it
        // is a word of plain data of this function's frame type.
        let lent_slot = match self.lending.take() {
            Some((at, g, off)) if at + 1 == pc && g == f => {
                self.frame_type.filter(|t| frame_allows(t, off as usize, 8, Access::Write)).map(|_| off)
            }
            _ => None,
        };
        // The frame type the callee runs in (`Module::entry_type`).
        let want = self.m.entry_type.get(target).copied().flatten().map_or(0, |t| t as *const _ as i64);
        // The budget is stored once on each path: the runtime's call spends
        // it in memory, the native call after spending it inline.
        let budget = self.dirty & BUDGET;
        self.dirty &= !BUDGET;
        self.flush();
        self.dirty |= budget;
        self.resume.insert(pc + 1);
        let Some(slot) = self.facts.slot(target) else {
            // Not a function the table knows: the runtime does the Dis half
            // and the dispatcher enters it.
            self.call_in_runtime(f, pc, target, want);
            let e = self.b.ins().iconst(types::I32, native::EXIT_JUMP as i64);
            self.b.ins().return_(&[e]);
            return;
        };
        // The callee's frame must be the newest, of a type that covers the
        // callee's operands.
        let (checked, set, slow, enter) =
            (self.b.create_block(), self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(slow);
        // A frame this function just made, of the callee's type, passes.
        let made = match self.new_frames.get(&f) {
            Some(NewFrame::Typed(t)) => self.top == Some(f) && *t as *const vm::types::Type as i64 == want,
            _ => false,
        };
        if made {
            self.b.ins().jump(set, &[]);
        } else {
            let st = self.stack();
            let top = self.b.ins().load(I64, mem(), st, STACK_TOP);
            let is_top = self.b.ins().icmp(IntCC::Equal, top, f);
            self.b.ins().brif(is_top, checked, &[], slow, &[]);
            self.b.seal_block(checked);
            self.b.switch_to_block(checked);
            let t = self.b.ins().load(I64, mem(), f, REG_TYPE as i32);
            let fits = self.b.ins().icmp_imm_s(IntCC::Equal, t, want);
            self.b.ins().brif(fits, set, &[], slow, &[]);
        }
        self.b.seal_block(set);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.call_in_runtime(f, pc, target, want);
        self.b.ins().jump(enter, &[]);
        self.b.switch_to_block(set);
        let lr = self.b.ins().iconst(I64, pc as i64 + 1);
        self.b.ins().store(mem(), lr, f, REG_LR as i32);
        self.b.ins().store(mem(), self.fp, f, REG_FP as i32);
        let spent = self.spend(1);
        self.store_budget();
        self.dirty &= !BUDGET;
        let floor =
            self.b.ins().load(I64, MemFlagsData::trusted().with_readonly(), self.ctx, CTX_STACK_FLOOR);
        let sp = self.b.ins().get_stack_pointer(I64);
        let deep = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, floor);
        let (yield_, jump, go) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let deeper = self.b.create_block();
        self.b.set_cold_block(yield_);
        self.b.set_cold_block(jump);
        self.b.ins().brif(spent, yield_, &[], deeper, &[]);
        self.b.seal_block(yield_);
        self.b.seal_block(deeper);
        self.b.switch_to_block(yield_);
        self.leave_to(native::EXIT_YIELD, f, target);
        self.b.switch_to_block(deeper);
        self.b.ins().brif(deep, jump, &[], go, &[]);
        self.b.seal_block(jump);
        self.b.seal_block(go);
        self.b.switch_to_block(jump);
        self.leave_to(native::EXIT_JUMP, f, target);
        self.b.switch_to_block(go);
        // The callee's frame, as `native::call` leaves it (which sets
        // `ctx.pc` too, which a compiled callee does not read).
        self.b.ins().store(mem(), f, self.ctx, CTX_FP);
        self.b.ins().jump(enter, &[]);

        self.b.seal_block(enter);
        self.b.switch_to_block(enter);
        let slot = self.b.ins().iconst(I64, slot);
        let callee = self.b.ins().load(I64, mem(), slot, 0);
        let idx = self.b.ins().iconst(types::I32, 0);
        let lent = self.b.ins().iconst(I64, 0);
        let lent = match lent_slot {
            Some(off) => self.b.ins().iadd_imm_s(self.fp, off),
            None => lent,
        };
        let call = self.b.ins().call_indirect(self.entry_sig, callee, &[self.ctx, idx, lent]);
        let e = self.b.inst_results(call)[0];
        // Carry on here only if the callee returned; anything else is for
        // the dispatcher. A return comes back to this frame and the next
        // instruction: the callee's `ret` takes both from its frame's
        // registers, set above and out of reach of Dis code.
        let ret = self.b.ins().icmp_imm_s(IntCC::Equal, e, native::EXIT_RET as i64);
        let on = self.b.create_block();
        let out = self.b.create_block();
        self.b.set_cold_block(out);
        self.b.ins().brif(ret, on, &[], out, &[]);
        self.b.seal_block(on);
        self.b.seal_block(out);
        self.b.switch_to_block(out);
        // A callee not compiled yet left at once: the dispatcher runs it
        // from its entry.
        let (enter_it, other) = (self.b.create_block(), self.b.create_block());
        let not_compiled = self.b.ins().icmp_imm_s(IntCC::Equal, e, glue::EXIT_ENTER as i64);
        self.b.ins().brif(not_compiled, enter_it, &[], other, &[]);
        self.b.seal_block(enter_it);
        self.b.seal_block(other);
        self.b.switch_to_block(enter_it);
        self.exit(native::EXIT_JUMP, target);
        self.b.switch_to_block(other);
        self.b.ins().return_(&[e]);
        self.b.switch_to_block(on);
        if cfg!(debug_assertions) {
            let fp = self.b.ins().load(I64, mem(), self.ctx, CTX_FP);
            let same_fp = self.b.ins().icmp(IntCC::Equal, fp, self.fp);
            let at = self.b.ins().load(I64, mem(), self.ctx, CTX_PC);
            let same_pc = self.b.ins().icmp_imm_s(IntCC::Equal, at, pc as i64 + 1);
            let ok = self.b.ins().band(same_fp, same_pc);
            self.b.ins().trapz(ok, ir::TrapCode::unwrap_user(2));
        }
        // The callee holds this frame's address (its caller-frame register)
        // and may have written any slot through it.
        self.reload_all(pc + 1);
        self.fall(pc, next);
    }

    /// [`native::call`]: leaves with its exit code unless it is
    /// [`native::EXIT_NONE`], when `ctx` describes the callee at its entry.
    fn call_in_runtime(&mut self, f: Value, pc: usize, target: usize, want: i64) {
        if self.dirty & BUDGET != 0 {
            self.store_budget();
        }
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let tv = self.b.ins().iconst(I64, target as i64);
        let ev = self.b.ins().iconst(I64, want);
        let r = self.rt(Rt::Call, &[f, pcv, tv, ev]).expect("an exit code");
        self.leave_unless_none(r);
    }

    /// `ret`: frees the frame inline and leaves with [`native::EXIT_RET`]
    /// when it is the stack's newest, not the first of its segment, of the
    /// type validation found for the function, and returns to a caller in
    /// the same module; [`native::ret`] takes every other case.
    fn ret(&mut self, pc: usize) {
        // The frame dies: of what the function keeps in variables only the
        // budget outlives it.
        if self.dirty & BUDGET != 0 {
            self.store_budget();
        }
        let slow = self.b.create_block();
        if let Some(t) = self.frame_type.filter(|t| t.ptrs.len() <= INLINE_RET_POINTERS) {
            let fast = self.b.create_block();
            self.b.set_cold_block(slow);
            let fp = self.fp;
            let caller = self.b.ins().load(I64, mem(), fp, REG_FP as i32);
            let mr = self.b.ins().load(I64, mem(), fp, REG_MR as i32);
            let st = self.stack();
            let top = self.b.ins().load(I64, mem(), st, STACK_TOP);
            let base = self.b.ins().load(I64, mem(), st, STACK_BASE);
            let link = self.b.ins().iadd_imm_s(fp, -(LINK as i64));
            // Each test a branch of its own: a compare and a jump. Calls
            // and entries check frames against the function's layout, so
            // the frame's type needs testing only where another function's
            // frames may run this code.
            let mut tests = vec![
                self.b.ins().icmp_imm_s(IntCC::Equal, caller, 0),
                self.b.ins().icmp_imm_s(IntCC::NotEqual, mr, 0),
                self.b.ins().icmp(IntCC::NotEqual, top, fp),
                self.b.ins().icmp(IntCC::Equal, link, base),
            ];
            if self.m.analysis.shared.get(pc).copied().unwrap_or(true) {
                let ft = self.b.ins().load(I64, mem(), fp, REG_TYPE as i32);
                tests.push(self.b.ins().icmp_imm_s(IntCC::NotEqual, ft, t as *const vm::types::Type as i64));
            }
            for fails in tests {
                let next = self.b.create_block();
                self.b.ins().brif(fails, slow, &[], next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            self.b.ins().jump(fast, &[]);
            self.b.seal_block(fast);
            self.b.switch_to_block(fast);
            for &o in t.ptrs {
                let p = self.b.ins().load(I64, mem(), fp, o as i32);
                let zero = self.b.ins().iconst(I64, 0);
                self.b.ins().store(mem(), zero, fp, o as i32);
                self.drop_ref(p);
            }
            let lr = self.b.ins().load(I64, mem(), fp, REG_LR as i32);
            let older = self.b.ins().load(I64, mem(), link, 0);
            self.b.ins().store(mem(), older, st, STACK_TOP);
            self.b.ins().store(mem(), link, st, STACK_SP);
            self.b.ins().store(mem(), caller, self.ctx, CTX_FP);
            self.b.ins().store(mem(), lr, self.ctx, CTX_PC);
            let e = self.b.ins().iconst(types::I32, native::EXIT_RET as i64);
            self.b.ins().return_(&[e]);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let r = self.rt(Rt::Ret, &[pcv]).expect("an exit code");
        self.b.ins().return_(&[r]);
    }

    fn inst(&mut self, pc: usize, i: &Inst, next: Option<usize>) {
        use Ty::*;
        let target = || i.dst.imm() as usize;
        match i.op {
            // The interpreter checks the pointer before it uses it.
            _ if i.reads_loose_pointer() => self.call_runtime(pc, next),
            O::Nop => self.fall(pc, next),
            O::Jmp => self.jump(pc, target()),
            O::Movb | O::Movw | O::Movl | O::Movf => {
                let ty = match i.op {
                    O::Movb => B,
                    O::Movf => F,
                    _ => W,
                };
                let v = self.load(&i.src, ty, pc);
                self.store(&i.dst, ty, v, pc);
                self.fall(pc, next);
            }
            O::Lea => {
                let a = self.addr(&i.src, pc);
                self.nonnil.insert(a);
                self.store(&i.dst, W, a, pc);
                if i.src.mode == Mode::Fp && i.dst.mode == Mode::IndFp && i.dst.v == REG_RET as i64 {
                    if let Some(f) = self.known_base(&i.dst) {
                        self.lending = Some((pc, f, i.src.v));
                    }
                }
                self.fall(pc, next);
            }
            O::Cvtbw | O::Cvtwb | O::Cvtlw | O::Cvtwl | O::Cvtws | O::Cvtsw => {
                let (from, to) = match i.op {
                    O::Cvtbw => (B, W),
                    O::Cvtwb => (W, B),
                    O::Cvtws => (W, S16),
                    O::Cvtsw => (S16, W),
                    _ => (W, W),
                };
                let v = self.load(&i.src, from, pc);
                self.store(&i.dst, to, v, pc);
                self.fall(pc, next);
            }
            O::Cvtwf | O::Cvtlf => {
                let v = self.load(&i.src, W, pc);
                let f = self.b.ins().fcvt_from_sint(types::F64, v);
                self.store(&i.dst, F, f, pc);
                self.fall(pc, next);
            }
            O::Cvtfw | O::Cvtfl => {
                // Half away from zero, saturating, NaN to 0: as the interpreter.
                let v = self.load(&i.src, F, pc);
                let half = self.b.ins().f64const(0.5);
                let zero = self.b.ins().f64const(0.0);
                let neg = self.b.ins().fcmp(FloatCC::LessThan, v, zero);
                let lo = self.b.ins().fsub(v, half);
                let hi = self.b.ins().fadd(v, half);
                let r = self.b.ins().select(neg, lo, hi);
                let w = self.b.ins().fcvt_to_sint_sat(I64, r);
                self.store(&i.dst, W, w, pc);
                self.fall(pc, next);
            }
            O::Cvtrf => {
                let v = self.load(&i.src, R32, pc);
                let f = self.b.ins().fpromote(types::F64, v);
                self.store(&i.dst, F, f, pc);
                self.fall(pc, next);
            }
            O::Cvtfr => {
                let v = self.load(&i.src, F, pc);
                let f = self.b.ins().fdemote(types::F32, v);
                self.store(&i.dst, R32, f, pc);
                self.fall(pc, next);
            }
            O::Addb | O::Addw | O::Addl => self.int_op(i, pc, next, |b, x, y| b.ins().iadd(x, y)),
            O::Subb | O::Subw | O::Subl => self.int_op(i, pc, next, |b, x, y| b.ins().isub(x, y)),
            O::Mulb | O::Mulw | O::Mull => self.int_op(i, pc, next, |b, x, y| b.ins().imul(x, y)),
            O::Andb | O::Andw | O::Andl => self.int_op(i, pc, next, |b, x, y| b.ins().band(x, y)),
            O::Orb | O::Orw | O::Orl => self.int_op(i, pc, next, |b, x, y| b.ins().bor(x, y)),
            O::Xorb | O::Xorw | O::Xorl => self.int_op(i, pc, next, |b, x, y| b.ins().bxor(x, y)),
            // Shift counts use the low six bits, as Cranelift's 64-bit
            // shifts do; bytes shift as zero-extended words.
            O::Shlb | O::Shlw | O::Shll => self.shift(i, pc, next, |b, x, n| b.ins().ishl(x, n)),
            O::Shrb | O::Lsrw | O::Lsrl => self.shift(i, pc, next, |b, x, n| b.ins().ushr(x, n)),
            O::Shrw | O::Shrl => self.shift(i, pc, next, |b, x, n| b.ins().sshr(x, n)),
            O::Divb | O::Modb => {
                let d = self.load(&i.src, B, pc);
                let a = self.load(Self::mid(i), B, pc);
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, d, 0);
                self.trap_if(zero, native::EXIT_ZDIV, pc);
                let r = if i.op == O::Divb { self.b.ins().udiv(a, d) } else { self.b.ins().urem(a, d) };
                self.store(&i.dst, B, r, pc);
                self.fall(pc, next);
            }
            O::Divw | O::Divl | O::Modw | O::Modl => {
                let d = self.load(&i.src, W, pc);
                let a = self.load(Self::mid(i), W, pc);
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, d, 0);
                self.trap_if(zero, native::EXIT_ZDIV, pc);
                // Dividing by -1 wraps (the most negative value stays
                // itself, its remainder is 0) instead of trapping.
                let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, d, -1);
                let one = self.b.ins().iconst(I64, 1);
                let safe = self.b.ins().select(m1, one, d);
                let div = matches!(i.op, O::Divw | O::Divl);
                let q = if div { self.b.ins().sdiv(a, safe) } else { self.b.ins().srem(a, safe) };
                let alt = if div { self.b.ins().ineg(a) } else { self.b.ins().iconst(I64, 0) };
                let r = self.b.ins().select(m1, alt, q);
                self.store(&i.dst, W, r, pc);
                self.fall(pc, next);
            }
            O::Addf | O::Subf | O::Mulf | O::Divf => {
                let y = self.load(&i.src, F, pc);
                let x = self.load(Self::mid(i), F, pc);
                let r = match i.op {
                    O::Addf => self.b.ins().fadd(x, y),
                    O::Subf => self.b.ins().fsub(x, y),
                    O::Mulf => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                self.store(&i.dst, F, r, pc);
                self.fall(pc, next);
            }
            O::Negf => {
                let v = self.load(&i.src, F, pc);
                let r = self.b.ins().fneg(v);
                self.store(&i.dst, F, r, pc);
                self.fall(pc, next);
            }
            O::Beqb | O::Bneb | O::Bltb | O::Bleb | O::Bgtb | O::Bgeb => {
                let cc = int_cc(i.op, true);
                self.int_branch(i, B, cc, pc, next)
            }
            O::Beqw
            | O::Bnew
            | O::Bltw
            | O::Blew
            | O::Bgtw
            | O::Bgew
            | O::Beql
            | O::Bnel
            | O::Bltl
            | O::Blel
            | O::Bgtl
            | O::Bgel => {
                let cc = int_cc(i.op, false);
                self.int_branch(i, W, cc, pc, next)
            }
            O::Beqf | O::Bnef | O::Bltf | O::Blef | O::Bgtf | O::Bgef => {
                let x = self.load(&i.src, F, pc);
                let y = self.load(Self::mid(i), F, pc);
                let cc = match i.op {
                    O::Beqf => FloatCC::Equal,
                    O::Bnef => FloatCC::NotEqual,
                    O::Bltf => FloatCC::LessThan,
                    O::Blef => FloatCC::LessThanOrEqual,
                    O::Bgtf => FloatCC::GreaterThan,
                    _ => FloatCC::GreaterThanOrEqual,
                };
                let c = self.b.ins().fcmp(cc, x, y);
                self.branch(c, pc, target(), next);
            }
            O::Indx | O::Indw | O::Indf | O::Indb | O::Indl => {
                let width = vm::interp::index_width(i.op) as i64;
                let kept = self.arrays.get(&i.src.v).copied().filter(|_| i.src.mode == Mode::Fp);
                let (at, elem) = match kept {
                    Some(av) => self.index_kept(i, av, width, pc),
                    None => {
                        let a = self.load(&i.src, W, pc);
                        let k = self.load(&i.dst, W, pc);
                        let (at, first) = self.index_checked(a, k, width, pc, None);
                        (at, First::Value(first))
                    }
                };
                self.nonnil.insert(at);
                if width > 0 {
                    self.elems.insert(at, Elem { width, first: elem });
                }
                self.store(&i.mid, W, at, pc);
                self.fall(pc, next);
            }
            O::Movp if i.src.mode != Mode::Imm => {
                // Both operands resolved before the count changes: a nil
                // one raises with nothing retained.
                let v = self.load(&i.src, W, pc);
                let a = self.ptr_dest(&i.dst, pc);
                self.retain(v);
                self.put_ptr(a, v);
                self.fall(pc, next);
            }
            O::New | O::Newz => {
                // The destination first: a nil one raises before anything
                // is made, as in the interpreter.
                let a = self.ptr_dest(&i.dst, pc);
                let t = self.type_addr(i.src.imm());
                let o = self.rt(Rt::Alloc, &[t]).expect("an object");
                self.put_ptr(a, o);
                self.fall(pc, next);
            }
            O::Lena if i.src.mode == Mode::Fp && self.arrays.contains_key(&i.src.v) => {
                let av = self.arrays[&i.src.v];
                // The length kept, if not 0; else the full checks, which keep it.
                let (slow, done) = (self.b.create_block(), self.b.create_block());
                let n = self.b.append_block_param(done, I64);
                let len = self.b.use_var(av.len);
                self.b.ins().brif(len, done, &[BlockArg::Value(len)], slow, &[]);
                self.b.seal_block(slow);
                self.b.switch_to_block(slow);
                let known = self.known_slots.clone();
                let p = self.load(&i.src, W, pc);
                let some = self.b.create_block();
                let zero = self.b.ins().iconst(I64, 0);
                self.b.ins().brif(p, some, &[], done, &[BlockArg::Value(zero)]);
                self.b.seal_block(some);
                self.b.switch_to_block(some);
                self.check_kind(p, &vm::array::ARRAY, pc);
                let v = self.b.ins().load(I64, mem(), p, vm::array::LEN as i32);
                let elem = self.b.ins().load(I64, mem(), p, vm::array::ELEM as i32);
                let size = self.b.ins().load(I64, mem(), elem, 0);
                let first = self.first_word_pointer(elem);
                let data = self.b.ins().load(I64, mem(), p, vm::array::DATA as i32);
                self.keep_array(av, v, data, size, first);
                self.b.ins().jump(done, &[BlockArg::Value(v)]);
                self.known_slots = known;
                self.b.seal_block(done);
                self.b.switch_to_block(done);
                self.store(&i.dst, W, n, pc);
                self.fall(pc, next);
            }
            O::Lena | O::Lenc => {
                let p = self.load(&i.src, W, pc);
                let (len, kind) = if i.op == O::Lena {
                    (vm::array::LEN, &vm::array::ARRAY)
                } else {
                    (vm::string::LEN, &vm::string::STRING)
                };
                // 0 for nil; the kind checked on the other path, after
                // which `p` is known to be nil or of that kind.
                let (some, done) = (self.b.create_block(), self.b.create_block());
                let n = self.b.append_block_param(done, I64);
                let zero = self.b.ins().iconst(I64, 0);
                self.b.ins().brif(p, some, &[], done, &[BlockArg::Value(zero)]);
                self.b.seal_block(some);
                self.b.switch_to_block(some);
                self.check_kind(p, kind, pc);
                let v = self.b.ins().load(I64, mem(), p, len as i32);
                self.b.ins().jump(done, &[BlockArg::Value(v)]);
                self.b.seal_block(done);
                self.b.switch_to_block(done);
                self.store(&i.dst, W, n, pc);
                self.fall(pc, next);
            }
            O::Indc => {
                use vm::string::{DATA, LEN, WIDE};
                let p = self.load(&i.src, W, pc);
                let nil = self.b.ins().icmp_imm_s(IntCC::Equal, p, 0);
                self.trap_if(nil, native::EXIT_NILREF, pc);
                self.check_kind(p, &vm::string::STRING, pc);
                let k = self.load(Self::mid(i), W, pc);
                let len = self.b.ins().load(I64, mem(), p, LEN as i32);
                let out = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, k, len);
                self.trap_if(out, native::EXIT_BOUNDS, pc);
                // One byte a rune, or four.
                let wide = self.b.ins().load(I64, mem(), p, WIDE as i32);
                let data = self.b.ins().iadd_imm_s(p, DATA as i64);
                let (one, four) = (self.b.create_block(), self.b.create_block());
                let done = self.b.create_block();
                let r = self.b.append_block_param(done, I64);
                self.b.ins().brif(wide, four, &[], one, &[]);
                self.b.seal_block(one);
                self.b.seal_block(four);
                self.b.switch_to_block(one);
                let at = self.b.ins().iadd(data, k);
                let v = self.b.ins().uload8(I64, mem(), at, 0);
                self.b.ins().jump(done, &[BlockArg::Value(v)]);
                self.b.switch_to_block(four);
                let k4 = self.b.ins().ishl_imm_u(k, 2);
                let at = self.b.ins().iadd(data, k4);
                let v = self.b.ins().uload32(mem(), at, 0);
                self.b.ins().jump(done, &[BlockArg::Value(v)]);
                self.b.seal_block(done);
                self.b.switch_to_block(done);
                self.store(&i.dst, W, r, pc);
                self.fall(pc, next);
            }
            O::Headb | O::Headw | O::Headf | O::Headl | O::Headp | O::Tail => {
                let l = self.load(&i.src, W, pc);
                let nil = self.b.ins().icmp_imm_s(IntCC::Equal, l, 0);
                self.trap_if(nil, native::EXIT_NILREF, pc);
                self.check_kind(l, &vm::list::LIST, pc);
                // A head as large as the instruction reads, and a pointer
                // for headp (as `interp::list_head` checks).
                if i.op != O::Tail {
                    let width = if i.op == O::Headb { 1 } else { 8 };
                    let size = self.b.ins().load(I64, mem(), l, vm::heap::SIZE);
                    let small = self.b.ins().icmp_imm_s(
                        IntCC::UnsignedLessThan,
                        size,
                        (vm::list::HEAD + width) as i64,
                    );
                    self.trap_if(small, native::EXIT_SEGV, pc);
                }
                if i.op == O::Headp {
                    let elem = self.b.ins().load(I64, mem(), l, vm::list::ELEM as i32);
                    let none = self.b.ins().icmp_imm_s(IntCC::Equal, elem, 0);
                    self.trap_if(none, native::EXIT_SEGV, pc);
                    let map = self.b.ins().load(I64, mem(), elem, vm::types::TYPE_SMALL_MAP);
                    let first = self.b.ins().band_imm_s(map, 1);
                    let plain = self.b.ins().icmp_imm_s(IntCC::Equal, first, 0);
                    self.trap_if(plain, native::EXIT_SEGV, pc);
                }
                match i.op {
                    O::Headb => {
                        let v = self.b.ins().uload8(I64, mem(), l, vm::list::HEAD as i32);
                        self.store(&i.dst, B, v, pc);
                    }
                    O::Headw | O::Headl => {
                        let v = self.b.ins().load(I64, mem(), l, vm::list::HEAD as i32);
                        self.store(&i.dst, W, v, pc);
                    }
                    O::Headf => {
                        let v = self.b.ins().load(types::F64, mem(), l, vm::list::HEAD as i32);
                        self.store(&i.dst, F, v, pc);
                    }
                    _ => {
                        let at = if i.op == O::Tail { vm::list::TAIL } else { vm::list::HEAD };
                        let d = self.ptr_dest(&i.dst, pc);
                        let v = self.b.ins().load(I64, mem(), l, at as i32);
                        self.retain(v);
                        self.put_ptr(d, v);
                    }
                }
                self.fall(pc, next);
            }
            O::Beqc | O::Bnec | O::Bltc | O::Blec | O::Bgtc | O::Bgec => {
                let a = self.load(&i.src, W, pc);
                let b = self.load(Self::mid(i), W, pc);
                let o = self.rt(Rt::CompareStrings, &[a, b]).expect("an ordering");
                let cc = int_cc(i.op, false);
                let c = self.b.ins().icmp_imm_s(cc, o, 0);
                self.branch(c, pc, target(), next);
            }
            O::Send | O::Recv => {
                // The channel, then the value's address, as the interpreter
                // resolves them.
                let send = i.op == O::Send;
                let (chan, val) = if send { (&i.dst, &i.src) } else { (&i.src, &i.dst) };
                let c = self.load(chan, W, pc);
                let a = self.addr(val, pc);
                self.flush();
                self.resume.insert(pc + 1);
                let pcv = self.b.ins().iconst(I64, pc as i64);
                let sv = self.b.ins().iconst(I64, send as i64);
                let r = self.rt(Rt::Channel, &[pcv, c, a, sv]).expect("an exit code");
                self.leave_unless_none(r);
                self.reload_all(pc + 1);
                self.fall(pc, next);
            }
            O::Frame => {
                let f = self.frame(i.src.imm());
                self.nonnil.insert(f);
                self.new_frames.insert(f, NewFrame::Typed(self.m.types[i.src.imm() as usize]));
                self.fresh.insert(f, u64::MAX);
                self.top = Some(f);
                self.store(&i.dst, W, f, pc);
                self.fall(pc, next);
            }
            O::Mframe => {
                // It ends at the next instruction unless it raises, so
                // that need not be resumable: the frame's type stays known
                // for the arguments stored next.
                self.run_in_runtime(pc, false);
                if i.dst.mode == Mode::Fp {
                    // The runtime made it, of the callee's type, unless a
                    // handler at the next instruction caught an exception:
                    // then that pc is entered again, knowing nothing.
                    let f = self.load(&i.dst, W, pc);
                    let stack = self.stack();
                    let top = self.b.ins().load(I64, mem(), stack, STACK_TOP);
                    let other = self.b.ins().icmp(IntCC::NotEqual, f, top);
                    self.trap_if(other, native::EXIT_JUMP, pc + 1);
                    let ro = MemFlagsData::trusted().with_readonly();
                    let t = self.b.ins().load(I64, ro, f, REG_TYPE as i32);
                    let size = self.b.ins().load(I64, ro, t, vm::types::TYPE_SIZE);
                    let map = self.b.ins().load(I64, ro, t, vm::types::TYPE_SMALL_MAP);
                    self.nonnil.insert(f);
                    self.new_frames.insert(f, NewFrame::Loaded { size, map });
                    self.fresh.insert(f, u64::MAX);
                    if self.slot_var(&i.dst).is_none() {
                        self.known_slots.insert(i.dst.v, f);
                    }
                }
                self.fall(pc, next);
            }
            O::Call => self.call(i, pc, next),
            O::Ret => self.ret(pc),
            _ => self.call_runtime(pc, next),
        }
    }

    /// Integer arithmetic on bytes (wrapping in 8 bits) or words.
    /// `ind*` through a slot whose array is kept: the bounds check alone
    /// while the array is known, else the full checks, which keep it.
    /// Returns the element's address and whether the element's first word
    /// is a pointer.
    fn index_kept(&mut self, i: &Inst, av: ArrayVars, width: i64, pc: usize) -> (Value, First) {
        let k = self.load(&i.dst, Ty::W, pc);
        let limit = self.b.use_var(av.len);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, k, limit);
        let (fast, slow, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let at = self.b.append_block_param(done, I64);
        self.b.set_cold_block(slow);
        self.b.ins().brif(inside, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);
        self.b.switch_to_block(fast);
        let data = self.b.use_var(av.data);
        let off = match (av.esize, av.how) {
            (Some(var), _) => {
                let size = self.b.use_var(var);
                self.b.ins().imul(k, size)
            }
            (None, slots::Indexing::Words) => self.b.ins().ishl_imm_u(k, 3),
            (None, _) => k,
        };
        let a = self.b.ins().iadd(data, off);
        self.b.ins().jump(done, &[BlockArg::Value(a)]);
        self.b.switch_to_block(slow);
        // What the full checks learn holds only on their path.
        let known = self.known_slots.clone();
        let p = self.load(&i.src, Ty::W, pc);
        let (a, f) = self.index_checked(p, k, width, pc, Some(av));
        if av.first.is_none() {
            // Compiled code takes the elements of an array it indexes by
            // bytes for bytes, which hold no pointer; elements that start
            // with one are the interpreter's, from the next instruction.
            let (other, same) = self.fork(f);
            self.b.switch_to_block(other);
            self.store(&i.mid, Ty::W, a, pc);
            self.leave(native::EXIT_JUMP, pc + 1);
            self.b.switch_to_block(same);
        }
        self.known_slots = known;
        self.b.ins().jump(done, &[BlockArg::Value(a)]);
        // All the full checks' blocks are out of the way of the loop.
        let slow_blocks = done.as_u32() + 1..self.b.func.dfg.num_blocks() as u32;
        for k in slow_blocks {
            self.b.set_cold_block(ir::Block::from_u32(k));
        }
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        let first = match av.first {
            Some(var) => First::Kept(var),
            None => First::Value(self.b.ins().iconst(I64, 0)),
        };
        (at, first)
    }

    /// Whether elements of `size` bytes do not suit an index of `width`, as
    /// `interp::elem_fits` has it: as large, whole words for words.
    fn unfit(&mut self, size: Value, width: i64) -> Value {
        let small = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, size, width);
        if width < 8 {
            return small;
        }
        let low = self.b.ins().band_imm_s(size, 7);
        let odd = self.b.ins().icmp_imm_s(IntCC::NotEqual, low, 0);
        self.b.ins().bor(small, odd)
    }

    /// Whether the first word of elements of type `elem` is a pointer: 1 or 0.
    fn first_word_pointer(&mut self, elem: Value) -> Value {
        let ro = MemFlagsData::trusted().with_readonly();
        let map = self.b.ins().load(I64, ro, elem, vm::types::TYPE_SMALL_MAP);
        self.b.ins().band_imm_s(map, 1)
    }

    /// `ind*` of index `k` into array `a`, every check inline; keeps the
    /// array in `keep`. Returns the element's address and whether the
    /// element's first word is a pointer.
    fn index_checked(
        &mut self,
        a: Value,
        k: Value,
        width: i64,
        pc: usize,
        keep: Option<ArrayVars>,
    ) -> (Value, Value) {
        use vm::array::{DATA, ELEM, LEN};
        // Nil has no elements: a bounds error, as in the interpreter.
        let nil = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
        self.trap_if(nil, native::EXIT_BOUNDS, pc);
        self.check_kind(a, &vm::array::ARRAY, pc);
        let len = self.b.ins().load(I64, mem(), a, LEN as i32);
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, k, len);
        self.trap_if(out, native::EXIT_BOUNDS, pc);
        let elem = self.b.ins().load(I64, mem(), a, ELEM as i32);
        let size = self.b.ins().load(I64, mem(), elem, 0);
        if width > 0 {
            let unfit = self.unfit(size, width);
            self.trap_if(unfit, native::EXIT_BOUNDS, pc);
        }
        let first = self.first_word_pointer(elem);
        let data = self.b.ins().load(I64, mem(), a, DATA as i32);
        if let Some(av) = keep {
            self.keep_array(av, len, data, size, first);
        }
        let off = self.b.ins().imul(k, size);
        (self.b.ins().iadd(data, off), first)
    }

    fn int_op(
        &mut self,
        i: &Inst,
        pc: usize,
        next: Option<usize>,
        f: fn(&mut FunctionBuilder, Value, Value) -> Value,
    ) {
        let ty = if is_byte_op(i.op) { Ty::B } else { Ty::W };
        self.arith(i, ty, pc, f);
        self.fall(pc, next);
    }

    /// Shifts: the count is a word, the value a byte or a word.
    fn shift(
        &mut self,
        i: &Inst,
        pc: usize,
        next: Option<usize>,
        f: fn(&mut FunctionBuilder, Value, Value) -> Value,
    ) {
        let ty = if is_byte_op(i.op) { Ty::B } else { Ty::W };
        let n = self.load(&i.src, Ty::W, pc);
        let x = self.load(Self::mid(i), ty, pc);
        let r = f(&mut self.b, x, n);
        self.store(&i.dst, ty, r, pc);
        self.fall(pc, next);
    }

    fn int_branch(&mut self, i: &Inst, ty: Ty, cc: IntCC, pc: usize, next: Option<usize>) {
        let x = self.load(&i.src, ty, pc);
        let y = self.load(Self::mid(i), ty, pc);
        let c = self.b.ins().icmp(cc, x, y);
        self.branch(c, pc, i.dst.imm() as usize, next);
    }
}

fn is_byte_op(op: O) -> bool {
    matches!(op, O::Addb | O::Subb | O::Mulb | O::Andb | O::Orb | O::Xorb | O::Shlb | O::Shrb)
}

/// The comparison of a branch: bytes compare unsigned, words signed.
fn int_cc(op: O, byte: bool) -> IntCC {
    let name = op.name();
    let rel = &name[1..3];
    match (rel, byte) {
        ("eq", _) => IntCC::Equal,
        ("ne", _) => IntCC::NotEqual,
        ("lt", true) => IntCC::UnsignedLessThan,
        ("le", true) => IntCC::UnsignedLessThanOrEqual,
        ("gt", true) => IntCC::UnsignedGreaterThan,
        ("ge", true) => IntCC::UnsignedGreaterThanOrEqual,
        ("lt", false) => IntCC::SignedLessThan,
        ("le", false) => IntCC::SignedLessThanOrEqual,
        ("gt", false) => IntCC::SignedGreaterThan,
        _ => IntCC::SignedGreaterThanOrEqual,
    }
}

/// A function translated to Cranelift IR, ready for [`codegen`].
pub struct Translated {
    pub func: Function,
    /// The pcs it can be entered at, by resume index (its entry first).
    pub resume: Vec<usize>,
    /// Its IR instructions: what compile time grows with.
    pub ir_insts: usize,
}

/// Translates the function at `entry` whose instructions are `body`;
/// `fctx` is the frontend's working memory, kept from one function to the
/// next.
pub fn translate(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    m: &Module,
    entry: usize,
    body: &[usize],
    facts: &ModuleFacts,
) -> Translated {
    let mut func = Function::with_name_signature(
        UserFuncName::user(0, entry as u32),
        Signature::new(isa.default_call_conv()),
    );
    let resume = Translator::build(isa, m, entry, body, facts, &mut func, fctx);
    let ir_insts = func.layout.blocks().map(|b| func.layout.block_insts(b).count()).sum();
    Translated { func, resume, ir_insts }
}

/// Loads a value of type `ty` from `base + off` where `pos` stands:
/// integers widened to 64 bits.
fn load_as(pos: &mut FuncCursor, flags: MemFlagsData, base: Value, off: i64, ty: Ty) -> Value {
    let off = off as i32;
    match ty {
        Ty::B => pos.ins().uload8(I64, flags, base, off),
        Ty::S16 => pos.ins().sload16(I64, flags, base, off),
        Ty::W => pos.ins().load(I64, flags, base, off),
        Ty::F => pos.ins().load(types::F64, flags, base, off),
        Ty::R32 => pos.ins().load(types::F32, flags, base, off),
    }
}

/// Compiles translated IR to machine code; `ctx` is Cranelift's working
/// memory, kept from one function to the next.
pub fn codegen(isa: &dyn TargetIsa, ctx: &mut Context, func: Function) -> Result<Vec<u8>, String> {
    ctx.clear();
    ctx.func = func;
    let mut ctrl = Default::default();
    let code = ctx.compile(isa, &mut ctrl).map_err(|e| format!("{:?}", e.inner))?;
    if !code.buffer.relocs().is_empty() {
        return Err("compiled code needs relocation".into());
    }
    Ok(code.code_buffer().to_vec())
}
