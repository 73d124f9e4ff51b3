//! The variable-length operand encoding of `.dis` files, and big-endian words.
//!
//! An operand is 1, 2 or 4 bytes, chosen by the top two bits of its first
//! byte: `0x` one byte (7-bit signed), `10` two bytes (14-bit signed),
//! `11` four bytes (30-bit signed). Writers use the shortest form.

/// Smallest and largest values an operand can hold (30-bit signed).
pub const OPERAND_MIN: i32 = -(1 << 29);
pub const OPERAND_MAX: i32 = (1 << 29) - 1;

/// Decodes the operand at the start of `b`, returning it and its length.
pub fn decode_operand(b: &[u8]) -> Option<(i32, usize)> {
    let c = *b.first()? as u32;
    match c & 0xC0 {
        0x00 => Some((c as i32, 1)),
        0x40 => Some(((c | !0x7F) as i32, 1)),
        0x80 => {
            let v = ((c & 0x3F) << 8) | *b.get(1)? as u32;
            let v = if c & 0x20 != 0 { v as i32 - (1 << 14) } else { v as i32 };
            Some((v, 2))
        }
        _ => {
            let tail = b.get(1..4)?;
            let v = ((c & 0x3F) << 24) | (tail[0] as u32) << 16 | (tail[1] as u32) << 8 | tail[2] as u32;
            let v = if c & 0x20 != 0 { v as i32 - (1 << 30) } else { v as i32 };
            Some((v, 4))
        }
    }
}

/// Appends `v` in its shortest encoding. Values outside the 30-bit range
/// cannot be encoded.
pub fn encode_operand(out: &mut Vec<u8>, v: i32) -> Result<(), i32> {
    if (-64..=63).contains(&v) {
        out.push((v & 0x7F) as u8);
    } else if (-8192..=8191).contains(&v) {
        out.push((((v >> 8) & 0x3F) | 0x80) as u8);
        out.push(v as u8);
    } else if (OPERAND_MIN..=OPERAND_MAX).contains(&v) {
        out.push((((v >> 24) & 0x3F) | 0xC0) as u8);
        out.push((v >> 16) as u8);
        out.push((v >> 8) as u8);
        out.push(v as u8);
    } else {
        return Err(v);
    }
    Ok(())
}

/// Appends a 4-byte big-endian word.
pub fn encode_word(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_boundary_round_trips_in_its_shortest_form() {
        let cases = [
            (0, 1),
            (63, 1),
            (-64, 1),
            (64, 2),
            (-65, 2),
            (8191, 2),
            (-8192, 2),
            (8192, 4),
            (-8193, 4),
            (OPERAND_MAX, 4),
            (OPERAND_MIN, 4),
        ];
        for (v, len) in cases {
            let mut b = Vec::new();
            encode_operand(&mut b, v).unwrap();
            assert_eq!(b.len(), len, "{v}");
            assert_eq!(decode_operand(&b), Some((v, len)), "{v}");
        }
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let mut b = Vec::new();
        assert_eq!(encode_operand(&mut b, OPERAND_MAX + 1), Err(OPERAND_MAX + 1));
        assert_eq!(encode_operand(&mut b, i32::MIN), Err(i32::MIN));
        assert!(b.is_empty());
    }

    #[test]
    fn truncated_operands_do_not_decode() {
        assert_eq!(decode_operand(&[]), None);
        assert_eq!(decode_operand(&[0x80]), None);
        assert_eq!(decode_operand(&[0xC0, 1, 2]), None);
    }

    #[test]
    fn known_encodings() {
        // XMAGIC as limbo writes it.
        assert_eq!(decode_operand(&[0xC0, 0x0C, 0x80, 0x30]), Some((819248, 4)));
        assert_eq!(decode_operand(&[0x7F]), Some((-1, 1)));
        assert_eq!(decode_operand(&[0xBF, 0xFF]), Some((-1, 2)));
    }
}
