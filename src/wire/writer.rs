//! Writing a response into a caller-owned buffer, with name compression and a size limit.
//!
//! The writer enforces the size limit record by record: a record that does not fit is rolled
//! back entirely, and the caller decides what that means (truncate with TC=1 for the answer and
//! authority sections, or simply stop adding optional additional records).

use super::name::equals_at;
use super::{HEADER_LEN, rtype};

/// One part of a record's data, as stored at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdataPiece {
    /// Bytes copied as they are (numbers, addresses, strings, names that must not be compressed).
    Bytes(Box<[u8]>),
    /// An encoded name that may be compressed (RFC 3597 §4: only in well-known types).
    Name(Box<[u8]>),
}

/// The four message sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer = 1,
    Authority = 2,
    Additional = 3,
}

/// The record did not fit within the size limit; nothing of it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Most names remembered for compression; later names are written uncompressed.
const COMPRESSION_SLOTS: usize = 96;

/// A position to roll back to.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    len: usize,
    counts: [u16; 4],
    comp_len: usize,
}

/// Builds one DNS message.
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
    limit: usize,
    counts: [u16; 4],
    /// Offsets of names (and name suffixes) already in the message.
    comp: [u16; COMPRESSION_SLOTS],
    comp_len: usize,
}

impl<'b> Writer<'b> {
    /// Starts a message in `buf`, never growing it beyond `limit` bytes.
    pub fn new(buf: &'b mut [u8], limit: usize) -> Self {
        let limit = limit.min(buf.len());
        buf[..HEADER_LEN].fill(0);
        Writer {
            buf,
            len: HEADER_LEN,
            limit,
            counts: [0; 4],
            comp: [0; COMPRESSION_SLOTS],
            comp_len: 0,
        }
    }

    /// Sets the header ID and flags word (rcode bits included).
    pub fn set_header(&mut self, id: u16, flags: u16) {
        self.buf[0..2].copy_from_slice(&id.to_be_bytes());
        self.buf[2..4].copy_from_slice(&flags.to_be_bytes());
    }

    /// The flags word as currently set.
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// Changes the size limit (e.g. to release the space reserved for the OPT record).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(self.buf.len());
    }

    /// Current message length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header has been written.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// Records in a section so far.
    pub fn count(&self, section: Section) -> u16 {
        self.counts[section as usize]
    }

    /// Copies the question verbatim (name, type, class) and makes its name available for
    /// compression, so answers owned by the query name point at it and keep the client's case.
    pub fn question(&mut self, raw: &[u8]) -> Result<(), Full> {
        if self.len + raw.len() > self.limit {
            return Err(Full);
        }
        let start = self.len;
        self.buf[start..start + raw.len()].copy_from_slice(raw);
        self.len += raw.len();
        self.counts[0] = 1;
        let name_len = raw.len().saturating_sub(4);
        self.remember_suffixes(start, &raw[..name_len]);
        Ok(())
    }

    /// A position to return to with [`Writer::rollback`].
    pub fn mark(&self) -> Mark {
        Mark {
            len: self.len,
            counts: self.counts,
            comp_len: self.comp_len,
        }
    }

    /// Forgets everything written since `mark`.
    pub fn rollback(&mut self, mark: Mark) {
        self.len = mark.len;
        self.counts = mark.counts;
        self.comp_len = mark.comp_len;
    }

    /// Removes every record, keeping header and question: the truncated (TC=1) form.
    pub fn clear_sections(&mut self) {
        let qend = self.question_end();
        self.len = qend;
        self.counts[1] = 0;
        self.counts[2] = 0;
        self.counts[3] = 0;
        // Names remembered beyond the question are gone; the question's are still valid.
        let mut keep = 0;
        for i in 0..self.comp_len {
            if (self.comp[i] as usize) < qend {
                self.comp[keep] = self.comp[i];
                keep += 1;
            }
        }
        self.comp_len = keep;
    }

    fn question_end(&self) -> usize {
        if self.counts[0] == 0 {
            return HEADER_LEN;
        }
        let mut i = HEADER_LEN;
        while i < self.len && self.buf[i] != 0 {
            i += self.buf[i] as usize + 1;
        }
        (i + 5).min(self.len)
    }

    /// Appends one resource record; on [`Full`] nothing is written.
    pub fn record(
        &mut self,
        section: Section,
        owner: &[u8],
        rrtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[RdataPiece],
    ) -> Result<(), Full> {
        let mark = self.mark();
        let r = self.record_inner(owner, rrtype, class, ttl, rdata);
        self.close(section, mark, r)
    }

    fn record_inner(
        &mut self,
        owner: &[u8],
        rrtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[RdataPiece],
    ) -> Result<(), Full> {
        self.rr_header(owner, rrtype, class, ttl)?;
        let rdlen_at = self.len;
        self.put(&[0, 0])?;
        for piece in rdata {
            match piece {
                RdataPiece::Bytes(b) => self.put(b)?,
                RdataPiece::Name(n) => self.name(n, true)?,
            }
        }
        let rdlen = (self.len - rdlen_at - 2) as u16;
        self.buf[rdlen_at..rdlen_at + 2].copy_from_slice(&rdlen.to_be_bytes());
        Ok(())
    }

    /// Appends a record whose data is one borrowed block of bytes.
    pub fn record_raw(
        &mut self,
        section: Section,
        owner: &[u8],
        rrtype: u16,
        class: u16,
        ttl: u32,
        data: &[u8],
    ) -> Result<(), Full> {
        let mark = self.mark();
        let r = (|| {
            self.rr_header(owner, rrtype, class, ttl)?;
            self.put(&(data.len() as u16).to_be_bytes())?;
            self.put(data)
        })();
        self.close(section, mark, r)
    }

    /// Appends a record whose data is one compressible name (CNAME synthesized from a DNAME).
    pub fn record_name(
        &mut self,
        section: Section,
        owner: &[u8],
        rrtype: u16,
        ttl: u32,
        target: &[u8],
    ) -> Result<(), Full> {
        let mark = self.mark();
        let r = (|| {
            self.rr_header(owner, rrtype, super::class::IN, ttl)?;
            let rdlen_at = self.len;
            self.put(&[0, 0])?;
            self.name(target, true)?;
            let rdlen = (self.len - rdlen_at - 2) as u16;
            self.buf[rdlen_at..rdlen_at + 2].copy_from_slice(&rdlen.to_be_bytes());
            Ok(())
        })();
        self.close(section, mark, r)
    }

    fn rr_header(&mut self, owner: &[u8], rrtype: u16, class: u16, ttl: u32) -> Result<(), Full> {
        self.name(owner, true)?;
        self.put(&rrtype.to_be_bytes())?;
        self.put(&class.to_be_bytes())?;
        self.put(&ttl.to_be_bytes())
    }

    fn close(&mut self, section: Section, mark: Mark, r: Result<(), Full>) -> Result<(), Full> {
        if r.is_err() {
            self.rollback(mark);
        } else {
            self.counts[section as usize] += 1;
        }
        r
    }

    /// Appends the OPT pseudo-record (RFC 6891) in the additional section.
    pub fn opt(
        &mut self,
        payload: u16,
        ext_rcode: u8,
        dnssec_ok: bool,
        options: &[u8],
    ) -> Result<(), Full> {
        let mark = self.mark();
        let mut ttl = [ext_rcode, 0, 0, 0];
        if dnssec_ok {
            ttl[2] = 0x80;
        }
        let r = (|| {
            self.put(&[0])?;
            self.put(&rtype::OPT.to_be_bytes())?;
            self.put(&payload.to_be_bytes())?;
            self.put(&ttl)?;
            self.put(&(options.len() as u16).to_be_bytes())?;
            self.put(options)
        })();
        if r.is_err() {
            self.rollback(mark);
            return r;
        }
        self.counts[3] += 1;
        Ok(())
    }

    /// Writes section counts into the header and returns the message length.
    pub fn finish(self) -> usize {
        for (i, c) in self.counts.iter().enumerate() {
            self.buf[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
        }
        self.len
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len + bytes.len();
        if end > self.limit {
            return Err(Full);
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Writes an encoded name, pointing at an earlier copy of its longest known suffix.
    fn name(&mut self, name: &[u8], compress: bool) -> Result<(), Full> {
        let start = self.len;
        let mut i = 0usize;
        while i < name.len() {
            let l = name[i] as usize;
            if l == 0 {
                self.put(&[0])?;
                break;
            }
            if compress && let Some(off) = self.find(&name[i..]) {
                self.put(&(0xC000 | off).to_be_bytes())?;
                break;
            }
            self.put(&name[i..i + l + 1])?;
            i += l + 1;
        }
        if compress {
            self.remember_suffixes(start, name);
        }
        Ok(())
    }

    fn find(&self, suffix: &[u8]) -> Option<u16> {
        let known = &self.comp[..self.comp_len];
        // Fast path: the same bytes stored contiguously (the usual case: every record of an
        // RRset repeats its owner, already written as the question). A byte match that ends
        // in the root label is a complete, uncompressed copy of the name.
        known
            .iter()
            .copied()
            .find(|&off| self.buf.get(off as usize..off as usize + suffix.len()) == Some(suffix))
            .or_else(|| {
                known
                    .iter()
                    .copied()
                    .find(|&off| equals_at(self.buf, off as usize, suffix))
            })
    }

    /// Remembers where each label of a just-written name starts (labels written literally only;
    /// the part behind a pointer is already known).
    fn remember_suffixes(&mut self, start: usize, name: &[u8]) {
        let mut pos = start;
        let mut i = 0usize;
        while i < name.len() && pos < self.len {
            let b = self.buf[pos];
            if b == 0 || b & 0xC0 == 0xC0 {
                break;
            }
            if pos < 0x4000 && self.comp_len < COMPRESSION_SLOTS {
                self.comp[self.comp_len] = pos as u16;
                self.comp_len += 1;
            }
            let l = b as usize + 1;
            pos += l;
            i += l;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_against_the_question_and_rolls_back_on_full() {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf, 80);
        let q = b"\x03WWW\x07example\x03com\x00\x00\x01\x00\x01";
        w.question(q).unwrap();
        let a = RdataPiece::Bytes(Box::new([192, 0, 2, 1]));
        w.record(
            Section::Answer,
            b"\x03www\x07example\x03com\x00",
            1,
            1,
            300,
            std::slice::from_ref(&a),
        )
        .unwrap();
        // Owner is a pointer to offset 12 (the question), so the record is 2+10+4 bytes.
        assert_eq!(w.len(), 12 + q.len() + 16);
        let before = w.len();
        let big = RdataPiece::Bytes(vec![0u8; 100].into_boxed_slice());
        assert_eq!(
            w.record(Section::Answer, b"\x00", 16, 1, 1, &[big]),
            Err(Full)
        );
        assert_eq!(w.len(), before);
        assert_eq!(w.count(Section::Answer), 1);
        let n = w.finish();
        assert_eq!(&buf[n - 16..n - 14], &[0xC0, 12]);
        assert_eq!(&buf[6..8], &[0, 1]);
    }

    #[test]
    fn compresses_a_suffix_inside_rdata() {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf, 512);
        w.question(b"\x07example\x03com\x00\x00\x02\x00\x01")
            .unwrap();
        let ns = RdataPiece::Name(b"\x03ns1\x07example\x03com\x00".to_vec().into());
        w.record(Section::Answer, b"\x07example\x03com\x00", 2, 1, 300, &[ns])
            .unwrap();
        let n = w.finish();
        // rdata = \x03ns1 + pointer to 12
        assert_eq!(&buf[n - 6..n], b"\x03ns1\xC0\x0C");
    }
}
