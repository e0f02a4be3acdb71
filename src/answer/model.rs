//! The two learned parts of answering: which sentence of the retrieved passages answers
//! (the *sentence model*) and whether the best one answers at all (the *answer decision*). Both
//! are L2-regularised logistic regressions over named features; their weights, the features'
//! means and spreads, and the decision's operating points are data (`decision.json` beside this
//! file), written by `isnad calibrate` and reproducible by rerunning it.
//!
//! Logistic regression is written here rather than taken from a crate: it is forty lines of
//! Newton's method on at most a few dozen features, and the machine-learning crates that offer
//! it (linfa, smartcore) would bring an ndarray/BLAS stack for that.

use crate::retrieve::Fusion;
use serde::{Deserialize, Serialize};

/// A fitted logistic regression over named, standardised features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Feature names, in order (checked against the code's feature list when loaded).
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Logistic {
    /// The log-odds of a feature vector.
    pub fn logit(&self, x: &[f32]) -> f32 {
        let mut z = self.bias;
        for (i, &v) in x.iter().enumerate().take(self.weights.len()) {
            z += self.weights[i] * (v - self.mean[i]) / self.scale[i];
        }
        z
    }

    /// The probability of a feature vector.
    pub fn probability(&self, x: &[f32]) -> f32 {
        sigmoid(self.logit(x))
    }

    /// Fits weights to `(features, label)` rows by Newton's method with an L2 penalty `lambda`
    /// (on standardised features; the bias is not penalised). Rows may carry a weight.
    pub fn fit(names: &[&str], rows: &[(Vec<f32>, bool, f32)], lambda: f64) -> Logistic {
        let d = names.len();
        let total: f64 = rows.iter().map(|r| f64::from(r.2)).sum::<f64>().max(1e-9);
        let mut mean = vec![0f64; d];
        let mut sq = vec![0f64; d];
        for (x, _, w) in rows {
            for i in 0..d {
                mean[i] += f64::from(x[i]) * f64::from(*w);
                sq[i] += f64::from(x[i]) * f64::from(x[i]) * f64::from(*w);
            }
        }
        let mean: Vec<f64> = mean.iter().map(|m| m / total).collect();
        let scale: Vec<f64> = (0..d).map(|i| (sq[i] / total - mean[i] * mean[i]).max(0.0).sqrt().max(1e-3)).collect();
        let z: Vec<Vec<f64>> =
            rows.iter().map(|(x, _, _)| (0..d).map(|i| (f64::from(x[i]) - mean[i]) / scale[i]).chain([1.0]).collect()).collect();
        // parameters: d weights then the bias
        let mut beta = vec![0f64; d + 1];
        for _ in 0..50 {
            let mut grad = vec![0f64; d + 1];
            let mut hess = vec![vec![0f64; d + 1]; d + 1];
            for (zi, (_, y, w)) in z.iter().zip(rows) {
                let p = sigmoid64(zi.iter().zip(&beta).map(|(a, b)| a * b).sum());
                let w = f64::from(*w);
                let r = (p - f64::from(u8::from(*y))) * w;
                let s = (p * (1.0 - p)).max(1e-9) * w;
                for a in 0..=d {
                    grad[a] += r * zi[a];
                    for b in a..=d {
                        hess[a][b] += s * zi[a] * zi[b];
                    }
                }
            }
            for a in 0..=d {
                for b in 0..a {
                    hess[a][b] = hess[b][a];
                }
                if a < d {
                    grad[a] += lambda * total * beta[a];
                    hess[a][a] += lambda * total;
                }
                hess[a][a] += 1e-9;
            }
            let Some(step) = solve(hess, grad) else { break };
            let mut moved = 0f64;
            for (b, s) in beta.iter_mut().zip(&step) {
                *b -= s;
                moved = moved.max(s.abs());
            }
            if moved < 1e-7 {
                break;
            }
        }
        Logistic {
            features: names.iter().map(|s| (*s).to_owned()).collect(),
            mean: mean.iter().map(|&m| m as f32).collect(),
            scale: scale.iter().map(|&s| s as f32).collect(),
            weights: beta[..d].iter().map(|&b| b as f32).collect(),
            bias: beta[d] as f32,
        }
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn sigmoid64(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0f64; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// One operating point of the answer decision: answering when the probability is at least
/// `threshold` gave `precision` on the calibration data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub precision: f32,
    pub threshold: f32,
}

/// Everything `isnad calibrate` learns, as stored in `decision.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// How it was made (command, data, date), for the reader of the file.
    pub made_by: String,
    pub sentence: Logistic,
    /// The answer decision with the embedding model on.
    pub answer: Logistic,
    /// The answer decision of lexical retrieval alone (no embedding model).
    pub answer_lexical: Logistic,
    /// The default operating point's precision.
    pub default_precision: f32,
    /// Precision → threshold, increasing precision (embedding model on).
    pub points: Vec<OperatingPoint>,
    /// The same for lexical retrieval alone.
    pub points_lexical: Vec<OperatingPoint>,
    /// How hybrid retrieval weighs lexical evidence against meaning.
    #[serde(default)]
    pub fusion: Fusion,
}

impl Calibration {
    /// The calibration shipped with isnad.
    pub fn shipped() -> &'static Calibration {
        static SHIPPED: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        SHIPPED.get_or_init(|| {
            let c: Calibration =
                serde_json::from_str(include_str!("decision.json")).unwrap_or_else(|e| panic!("answer/decision.json: {e}"));
            assert_eq!(c.sentence.features, super::features::SENTENCE, "decision.json: sentence features differ from the code's");
            assert_eq!(c.answer.features, super::features::ANSWER, "decision.json: answer features differ from the code's");
            assert_eq!(c.answer_lexical.features, super::features::ANSWER, "decision.json: answer features differ from the code's");
            c
        })
    }

    /// The probability threshold for a wanted precision: the lowest threshold whose measured
    /// precision reaches it (0 answers everything; above the best measured precision, the
    /// strictest point).
    pub fn threshold(&self, precision: f32, dense: bool) -> f32 {
        if precision <= 0.0 {
            return 0.0;
        }
        let points = if dense { &self.points } else { &self.points_lexical };
        points.iter().find(|p| p.precision >= precision).or(points.last()).map_or(0.5, |p| p.threshold)
    }

    /// The answer decision for a run with or without the embedding model.
    pub fn answer_model(&self, dense: bool) -> &Logistic {
        if dense {
            &self.answer
        } else {
            &self.answer_lexical
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_a_separable_feature_and_ignores_noise() {
        // label = x0 > 0.5; x1 is noise
        let rows: Vec<(Vec<f32>, bool, f32)> =
            (0..200).map(|i| (vec![(i % 20) as f32 / 20.0, ((i * 7919) % 13) as f32], (i % 20) >= 10, 1.0)).collect();
        let m = Logistic::fit(&["signal", "noise"], &rows, 1e-3);
        assert!(m.weights[0] > 1.0, "{m:?}");
        assert!(m.weights[1].abs() < m.weights[0].abs() / 5.0, "{m:?}");
        assert!(m.probability(&[0.9, 3.0]) > 0.9);
        assert!(m.probability(&[0.1, 3.0]) < 0.1);
    }

    #[test]
    fn shipped_calibration_loads_and_thresholds_are_monotone() {
        let c = Calibration::shipped();
        for points in [&c.points, &c.points_lexical] {
            assert!(points.windows(2).all(|w| w[0].precision <= w[1].precision && w[0].threshold <= w[1].threshold + 1e-6));
        }
        assert_eq!(c.threshold(0.0, true), 0.0);
        assert!(c.threshold(c.default_precision, true) > 0.0);
        assert!(c.threshold(c.default_precision, false) > 0.0);
    }
}
