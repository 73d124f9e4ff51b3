//! Dis lists: cons cells of a head value and a tail.

use crate::heap::{Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::types::{Kind, Type};

pub const TAIL: usize = 0;
/// Offset of the head's type, when the head holds pointers (else null).
pub const ELEM: usize = 8;
/// Offset of the head value.
pub const HEAD: usize = 16;

pub static LIST: Type = Type::new(HEAD, &[TAIL as u32], Kind::List);

/// A new cell with a `size`-byte head (of type `elem` when it holds
/// pointers) in front of `tail`, to which it takes a reference.
pub fn cons(heap: &mut Heap, size: usize, elem: Option<&'static Type>, tail: Ptr) -> Ptr {
    let p = heap.alloc(&LIST, size);
    Heap::inc(tail);
    obj(p).set_raw_p(tail);
    if let Some(t) = elem {
        // SAFETY: the element-type field of the cell.
        unsafe { obj(p).offset(ELEM) }.set_raw_p(t as *const Type as Ptr);
    }
    p
}

/// The head value's address.
pub fn head(p: Ptr) -> Addr {
    // SAFETY: the head follows the fixed part.
    unsafe { obj(p).offset(HEAD) }
}

/// The type of the cell's head, when it holds pointers.
pub fn elem_type(p: Ptr) -> Option<&'static Type> {
    // SAFETY: the element-type field of the cell: null or a type that
    // lives for the process.
    unsafe { (obj(p).offset(ELEM).raw_p() as *const Type).as_ref() }
}

pub fn tail(p: Ptr) -> Ptr {
    obj(p).raw_p()
}

pub(crate) fn children(p: Ptr, f: &mut dyn FnMut(Ptr)) {
    // The tail is in LIST's map; the head's pointers depend on the cell.
    let Some(t) = elem_type(p) else { return };
    for &o in t.ptrs {
        // SAFETY: pointer slots inside the head.
        let c = unsafe { head(p).offset(o as usize) }.p();
        if !c.is_null() {
            f(c);
        }
    }
}
