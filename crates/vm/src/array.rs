//! Dis arrays and slices. A slice shares its root array's elements and
//! holds a reference to the root.

use crate::heap::{Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::types::{Kind, Type};

/// Layout of an array object's fixed part.
pub const LEN: usize = 0;
pub const ELEM: usize = 8;
pub const ROOT: usize = 16;
pub const DATA: usize = 24;
const HDR: usize = 32;

pub static ARRAY: Type = Type::new(HDR, &[], Kind::Array);

fn field(p: Ptr, off: usize) -> Addr {
    // SAFETY: fixed fields of an array object.
    unsafe { obj(p).offset(off) }
}

/// A new array of `len` zeroed (nil) elements of type `elem`.
pub fn alloc(heap: &mut Heap, elem: &'static Type, len: usize) -> Ptr {
    let p = heap.alloc(&ARRAY, elem.size * len);
    field(p, LEN).set_w(len as i64);
    field(p, ELEM).set_raw_p(elem as *const Type as Ptr);
    // SAFETY: the elements follow the fixed part.
    let data = unsafe { obj(p).offset(HDR) }.ptr();
    field(p, DATA).set_raw_p(data);
    heap.shadow.tag_array(data as usize, elem, len);
    p
}

/// Number of elements (0 for nil).
#[inline]
pub fn len(p: Ptr) -> usize {
    if p.is_null() {
        0
    } else {
        field(p, LEN).w() as usize
    }
}

pub fn elem_type(p: Ptr) -> &'static Type {
    // SAFETY: arrays store a pointer to a type that lives for the process.
    unsafe { &*(field(p, ELEM).raw_p() as *const Type) }
}

/// Address of element `i`, which the caller has checked is below `len(p)`.
#[inline]
pub fn elem(p: Ptr, i: usize) -> Addr {
    let size = elem_type(p).size;
    // SAFETY: i < len, so the element lies inside the root's storage.
    unsafe { Addr::new(field(p, DATA).raw_p().add(i * size)) }
}

/// The elements as bytes (for byte arrays).
pub fn bytes<'a>(p: Ptr) -> &'a [u8] {
    if p.is_null() {
        return &[];
    }
    let n = len(p) * elem_type(p).size;
    // SAFETY: the element storage holds len*size bytes.
    unsafe { Addr::new(field(p, DATA).raw_p()) }.bytes(n)
}

/// The elements as bytes, writable (for byte arrays).
pub fn elems_mut<'a>(p: Ptr) -> &'a mut [u8] {
    if p.is_null() {
        return &mut [];
    }
    let n = len(p) * elem_type(p).size;
    // SAFETY: the storage holds len*size bytes; one instruction at a time holds the slice.
    unsafe { std::slice::from_raw_parts_mut(field(p, DATA).raw_p(), n) }
}

/// A new byte array holding `b`.
pub fn from_bytes(heap: &mut Heap, b: &[u8]) -> Ptr {
    let p = alloc(heap, &crate::types::BYTE, b.len());
    if !b.is_empty() {
        // SAFETY: the source is a Rust slice, read only.
        elem(p, 0).copy_from(unsafe { Addr::new(b.as_ptr() as *mut u8) }, b.len());
    }
    p
}

pub(crate) fn children(p: Ptr, f: &mut dyn FnMut(Ptr)) {
    let root = field(p, ROOT).raw_p();
    if !root.is_null() {
        f(root);
        return;
    }
    let t = elem_type(p);
    if !t.has_pointers() {
        return;
    }
    for i in 0..len(p) {
        let e = elem(p, i);
        for &o in t.ptrs {
            // SAFETY: pointer slots of element i.
            let c = unsafe { e.offset(o as usize) }.p();
            if !c.is_null() {
                f(c);
            }
        }
    }
}

/// `a[from:to]` as a new slice; the caller has checked the bounds.
pub fn slice(heap: &mut Heap, a: Ptr, from: usize, to: usize) -> Ptr {
    let t = elem_type(a);
    let root = match field(a, ROOT).raw_p() {
        r if r.is_null() => a,
        r => r,
    };
    let s = heap.alloc(&ARRAY, 0);
    field(s, LEN).set_w((to - from) as i64);
    field(s, ELEM).set_raw_p(t as *const Type as Ptr);
    Heap::inc(root);
    field(s, ROOT).set_raw_p(root);
    // SAFETY: from <= len, inside (or one past) the storage.
    field(s, DATA).set_raw_p(unsafe { field(a, DATA).raw_p().add(from * t.size) });
    s
}
