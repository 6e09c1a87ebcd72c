//! WebSocket frames: parse one from the front of a buffer, encode one into a buffer.
//!
//! Parsing never allocates: a [`Frame`] is the opcode and where the payload lies in the
//! caller's buffer (masked payloads are unmasked in place), so a reader can walk every
//! frame of one `read` without copying any.

use std::ops::Range;

/// Largest payload accepted: the benchmark's frames are a few hundred bytes, so
/// anything near this is a broken stream, not a message.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// The frame types the benchmark meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// A text message (the only data frames the benchmark sends).
    Text,
    /// A binary message (read and ignored).
    Binary,
    /// The connection is closing.
    Close,
    /// A ping, to be answered with a pong carrying the same payload.
    Ping,
    /// An answer to a ping.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }
}

/// Why a byte stream is not a frame this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A continuation frame or a frame without FIN: fragmented messages are unsupported.
    Fragmented,
    /// An opcode this module does not know, or reserved bits set.
    Unknown(u8),
    /// A payload longer than [`MAX_PAYLOAD`].
    TooLong(u64),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fragmented => f.write_str("fragmented frames are not supported"),
            Self::Unknown(byte) => write!(f, "unknown frame header byte {byte:#04x}"),
            Self::TooLong(len) => write!(f, "frame payload of {len} bytes is too long"),
        }
    }
}

impl std::error::Error for FrameError {}

/// One complete frame at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Its type.
    pub opcode: Opcode,
    /// Where its (unmasked) payload lies in the buffer.
    pub payload: Range<usize>,
    /// Bytes the whole frame takes (header and payload).
    pub len: usize,
}

/// Parses the frame at the front of `buf`, unmasking its payload in place; `Ok(None)`
/// when `buf` does not hold all of it yet.
pub fn parse(buf: &mut [u8]) -> Result<Option<Frame>, FrameError> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        return Err(FrameError::Unknown(first));
    }
    let opcode = Opcode::from_bits(first & 0x0F).ok_or(if first & 0x0F == 0 {
        FrameError::Fragmented
    } else {
        FrameError::Unknown(first)
    })?;
    if first & 0x80 == 0 {
        return Err(FrameError::Fragmented);
    }
    let masked = second & 0x80 != 0;
    let (len, mut at) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= MAX_PAYLOAD)
        .ok_or(FrameError::TooLong(len))?;
    let mask = if masked {
        let Some(key) = buf
            .get(at..at + 4)
            .and_then(|k| <[u8; 4]>::try_from(k).ok())
        else {
            return Ok(None);
        };
        at += 4;
        Some(key)
    } else {
        None
    };
    let end = at + len;
    let Some(payload) = buf.get_mut(at..end) else {
        return Ok(None);
    };
    if let Some(key) = mask {
        apply_mask(payload, key);
    }
    Ok(Some(Frame {
        opcode,
        payload: at..end,
        len: end,
    }))
}

/// Appends a frame (FIN set) carrying `payload` to `out`: masked with `mask` as a client
/// must send it, or unmasked (`None`) as a server does.
pub fn encode(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8], mask: Option<[u8; 4]>) {
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    out.push(0x80 | opcode.bits());
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            let start = out.len();
            out.extend_from_slice(payload);
            apply_mask(&mut out[start..], key);
        }
        None => out.extend_from_slice(payload),
    }
}

/// XORs `bytes` with the repeating 4-byte `key` (masking and unmasking are the same).
pub fn apply_mask(bytes: &mut [u8], key: [u8; 4]) {
    let word = u32::from_ne_bytes(key);
    let mut chunks = bytes.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let mut four = [0u8; 4];
        four.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u32::from_ne_bytes(four) ^ word).to_ne_bytes());
    }
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key) {
        *byte ^= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize, mask: Option<[u8; 4]>) {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        encode(&mut out, Opcode::Text, &payload, mask);
        let whole = out.len();
        // Every strict prefix is incomplete, never an error.
        for cut in 0..whole {
            let mut part = out[..cut].to_vec();
            assert_eq!(parse(&mut part), Ok(None), "len {len} cut {cut}");
        }
        out.extend_from_slice(b"next");
        let frame = parse(&mut out).expect("valid").expect("complete");
        assert_eq!(frame.opcode, Opcode::Text);
        assert_eq!(frame.len, whole);
        assert_eq!(&out[frame.payload], &payload[..]);
    }

    #[test]
    fn frames_round_trip_at_every_length_form() {
        for len in [0, 1, 5, 125, 126, 200, 0xFFFF, 0x1_0000] {
            round_trip(len, None);
            round_trip(len, Some([1, 2, 3, 4]));
        }
    }

    #[test]
    fn rejects_what_it_does_not_read() {
        assert_eq!(parse(&mut [0x01, 0x00]), Err(FrameError::Fragmented));
        assert_eq!(parse(&mut [0x80, 0x00]), Err(FrameError::Fragmented));
        assert_eq!(parse(&mut [0x83, 0x00]), Err(FrameError::Unknown(0x83)));
        assert_eq!(parse(&mut [0xC1, 0x00]), Err(FrameError::Unknown(0xC1)));
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(parse(&mut huge), Err(FrameError::TooLong(_))));
    }
}
