//! The [`Graph`] saved in a snapshot: `graph.bin` holds the entry point, then
//! each point's level and its links (id and score) on each layer, and a CRC
//! of all of it. A file that fails any check is reported as corrupt, and the
//! index rebuilds the graph from its saved vectors.

use std::path::Path;
use std::sync::Mutex;

use super::{Entry, Graph, Lists, MAX_LEVEL, Node};
use crate::durable_file::write_synced;
use crate::vector::VectorConfig;
use crate::vector::near::Near;
use crate::{Error, Result};

/// The graph's file inside a snapshot directory.
pub(crate) const GRAPH_FILE: &str = "graph.bin";
const MAGIC: &[u8; 8] = b"DRPLYHG1";

impl Graph {
    /// Writes the graph to `graph.bin` in `dir`, synced.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut bytes = Vec::with_capacity(32 + self.nodes.len() * 8 * 3 * self.m);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.nodes.len() as u64).to_le_bytes());
        let entry = self.entry();
        bytes.push(u8::from(entry.is_some()));
        let entry = entry.unwrap_or(Entry { point: 0, level: 0 });
        bytes.extend_from_slice(&entry.point.to_le_bytes());
        bytes.push(entry.level);
        for node in &self.nodes {
            bytes.push(node.level);
            for list in node.lock().iter() {
                let len = u16::try_from(list.len())
                    .map_err(|_| Error::Invalid("a point with over 65,535 links".to_owned()))?;
                bytes.extend_from_slice(&len.to_le_bytes());
                for link in list {
                    bytes.extend_from_slice(&link.point.to_le_bytes());
                    bytes.extend_from_slice(&link.score.to_le_bytes());
                }
            }
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        write_synced(&dir.join(GRAPH_FILE), &bytes)
    }

    /// Reads `graph.bin` in `dir`, checking its magic, CRC and every link,
    /// over the points' `vectors` (point `i` at `i * dimension`).
    pub fn load(
        dir: &Path,
        config: &VectorConfig,
        vectors: &[f32],
        dimension: usize,
    ) -> Result<Graph> {
        let path = dir.join(GRAPH_FILE);
        let bytes = std::fs::read(&path).map_err(Error::file(&path))?;
        let corrupt = |reason: &str| Error::IndexCorrupt {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        if bytes.len() < 26 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a graph file"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(corrupt("checksum mismatch"));
        }
        let mut reader = Reader { bytes: &body[8..] };
        let truncated = || corrupt("truncated");
        let count = usize::try_from(reader.u64().ok_or_else(truncated)?)
            .ok()
            .filter(|&count| count <= u32::MAX as usize && count <= body.len())
            .ok_or_else(|| corrupt("impossible point count"))?;
        let has_entry = reader.u8().ok_or_else(truncated)? == 1;
        let entry = Entry {
            point: reader.u32().ok_or_else(truncated)?,
            level: reader.u8().ok_or_else(truncated)?,
        };
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let level = reader.u8().ok_or_else(truncated)?;
            if level > MAX_LEVEL {
                return Err(corrupt("a level past the highest"));
            }
            let mut layers = Vec::with_capacity(usize::from(level) + 1);
            for _ in 0..=level {
                let len = reader.u16().ok_or_else(truncated)?;
                let mut list = Vec::with_capacity(usize::from(len));
                for _ in 0..len {
                    let point = reader.u32().ok_or_else(truncated)?;
                    let score = f32::from_bits(reader.u32().ok_or_else(truncated)?);
                    if point as usize >= count {
                        return Err(corrupt("a link to no point"));
                    }
                    list.push(Near { score, point });
                }
                layers.push(list);
            }
            nodes.push(Node {
                level,
                links: Mutex::new(Lists::from_layers(layers)),
            });
        }
        if !reader.bytes.is_empty() {
            return Err(corrupt("bytes after the last point"));
        }
        let entry = match (has_entry, nodes.get(entry.point as usize)) {
            (false, _) if count == 0 => None,
            (true, Some(node)) if node.level == entry.level => Some(entry),
            _ => return Err(corrupt("no valid entry point")),
        };
        Graph::from_nodes(config, nodes, entry, vectors, dimension)
            .ok_or_else(|| corrupt("more points than saved vectors"))
    }
}

/// Little-endian values read off the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}
