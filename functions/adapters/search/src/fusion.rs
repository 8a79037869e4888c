//! Hybrid ranking: chunks ranked by meaning (cosine similarity of their embeddings to the
//! query's), fused with the BM25 ranking by reciprocal rank fusion.

use std::collections::HashMap;

use steward_domain::knowledge::Embedding;

/// Reciprocal rank fusion's constant: a chunk ranked `r` (from 1) in a list scores `1 / (K + r)`.
/// 60 is the value of the original paper (Cormack et al., 2009) and of most hybrid search engines.
pub(crate) const RRF_K: f32 = 60.0;

/// The `limit` chunks most similar to `query`, best first, as (ordinal, similarity). Chunks
/// without a vector, or with another model's, are not ranked.
pub(crate) fn by_similarity<'a>(
    vectors: impl IntoIterator<Item = Option<&'a Embedding>>,
    query: &Embedding,
    limit: usize,
) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = vectors
        .into_iter()
        .enumerate()
        .filter_map(|(ordinal, vector)| {
            let vector = vector.filter(|v| v.model == query.model)?;
            Some((ordinal, vector.similarity(&query.vector)))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    ranked
}

/// Fuses rankings (lists of ordinals, best first) into one, best first, as (ordinal, score):
/// each list adds `1 / (RRF_K + rank)` to a chunk's score. Ties keep the first list's order.
pub(crate) fn reciprocal_rank_fusion(rankings: &[Vec<usize>]) -> Vec<(usize, f32)> {
    let mut scores: HashMap<usize, (f32, usize)> = HashMap::new();
    let mut order = 0;
    for ranking in rankings {
        for (rank, ordinal) in ranking.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let gain = 1.0 / (RRF_K + (rank + 1) as f32);
            let entry = scores.entry(*ordinal).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            entry.0 += gain;
        }
    }
    let mut fused: Vec<(usize, f32, usize)> = scores.into_iter().map(|(o, (s, first))| (o, s, first)).collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    fused.into_iter().map(|(ordinal, score, _)| (ordinal, score)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_both_lists_rank_well_wins_over_one_list_alone() {
        let fused = reciprocal_rank_fusion(&[vec![1, 2, 3], vec![3, 4, 1]]);
        let order: Vec<usize> = fused.iter().map(|(o, _)| *o).collect();
        assert_eq!(order, [1, 3, 2, 4]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-6);
    }

    #[test]
    fn one_list_alone_keeps_its_order() {
        let fused = reciprocal_rank_fusion(&[vec![5, 2, 9]]);
        assert_eq!(fused.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [5, 2, 9]);
        assert!(reciprocal_rank_fusion(&[vec![], vec![]]).is_empty());
    }

    #[test]
    fn only_vectors_of_the_querys_model_are_ranked() {
        let query = Embedding::new("m", vec![1.0, 0.0]);
        let near = Embedding::new("m", vec![0.9, 0.1]);
        let far = Embedding::new("m", vec![0.0, 1.0]);
        let other_model = Embedding::new("other", vec![1.0, 0.0]);
        let ranked = by_similarity([Some(&far), None, Some(&other_model), Some(&near)], &query, 10);
        assert_eq!(ranked.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [3, 0]);
        assert!(ranked[0].1 > 0.99 && ranked[1].1.abs() < 1e-6);
        assert_eq!(by_similarity([Some(&far), Some(&near)], &query, 1).len(), 1);
    }
}
