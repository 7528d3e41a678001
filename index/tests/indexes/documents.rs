//! The document-collection index used for public benchmarks: BM25 over title and text,
//! hits read back as document numbers, on disk or in memory.

use droply_index::{DocNumber, DocumentIndex};

fn collection(index: &DocumentIndex) {
    let docs = [
        (
            "Vitamin D",
            "Vitamin D deficiency is linked to bone loss in adults.",
        ),
        (
            "Sleep",
            "Short sleep raises the risk of obesity in children.",
        ),
        (
            "Bone density",
            "Calcium and vitamin D supplements and bone density.",
        ),
    ];
    for (i, (title, text)) in docs.iter().enumerate() {
        index
            .add(DocNumber(i as u64 + 10), title, text)
            .expect("add");
    }
    index.commit().expect("commit");
}

#[test]
fn bm25_ranks_documents_by_title_and_text() {
    for dir in [None, Some(tempfile::tempdir().expect("tempdir"))] {
        let index = DocumentIndex::create(dir.as_ref().map(|d| d.path())).expect("index");
        collection(&index);
        assert_eq!(index.len(), 3);
        let hits = index.search("vitamin D and bone", 10).expect("search");
        let keys: Vec<u64> = hits.iter().map(|(k, _)| k.0).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.contains(&10) && keys.contains(&12));
        assert!(hits[0].1 >= hits[1].1);
        let sleep = index.search("sleeping children", 10).expect("search");
        assert_eq!(
            sleep.first().map(|h| h.0),
            Some(DocNumber(11)),
            "stemmed match"
        );
        assert!(index.search("the of and", 10).expect("search").is_empty());
    }
}
