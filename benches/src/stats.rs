//! Small statistics for repeated runs: the mean of a sample with its 95% confidence interval
//! (Student's t, two-sided, n-1 degrees of freedom), the same for per-round ratios paired by
//! round, and whether an interval lies above, below or across a reference value.
//!
//! The t quantiles come from a table (exact to four decimals for 1-30 degrees of freedom, then
//! interpolated linearly in 1/df between tabulated points down to the normal 1.960). It assumes
//! the rounds are independent draws of the same quantity; it does not test that, remove
//! outliers or correct for multiple comparisons.

/// (degrees of freedom, 0.975 quantile of Student's t) beyond the dense 1-30 table.
const T975_SPARSE: [(f64, f64); 9] = [
    (30.0, 2.0423),
    (40.0, 2.0211),
    (50.0, 2.0086),
    (60.0, 2.0003),
    (80.0, 1.9901),
    (100.0, 1.9840),
    (120.0, 1.9799),
    (200.0, 1.9719),
    (1000.0, 1.9623),
];

/// The 0.975 quantile of Student's t for 1-30 degrees of freedom (index = df - 1).
const T975_DENSE: [f64; 30] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
    2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687,
    2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/// The normal 0.975 quantile, the limit for infinite degrees of freedom.
const Z975: f64 = 1.959_964;

/// The two-sided 95% critical value of Student's t with `df` degrees of freedom (the 0.975
/// quantile). `None` for `df == 0`.
pub fn t975(df: usize) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => T975_DENSE.get(df - 1).copied(),
        _ => {
            let d = df as f64;
            // Linear in 1/df between the tabulated neighbours; beyond the last, towards z.
            let mut lo = T975_SPARSE[0];
            for &hi in &T975_SPARSE[1..] {
                if d <= hi.0 {
                    return Some(interp(lo, hi, d));
                }
                lo = hi;
            }
            Some(interp(lo, (f64::INFINITY, Z975), d))
        }
    }
}

fn interp((d0, t0): (f64, f64), (d1, t1): (f64, f64), d: f64) -> f64 {
    let (x0, x1, x) = (1.0 / d0, 1.0 / d1, 1.0 / d);
    t0 + (t1 - t0) * (x - x0) / (x1 - x0)
}

/// A sample's mean and, for two or more values, its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Values in the sample.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// [low, high]: mean ± t(0.975, n-1) · s / √n, with s the sample standard deviation.
    /// `None` when n < 2.
    pub ci95: Option<[f64; 2]>,
}

impl Estimate {
    /// Half the interval's width (`None` when n < 2).
    pub fn half_width(&self) -> Option<f64> {
        self.ci95.map(|[lo, hi]| (hi - lo) / 2.0)
    }
}

/// Mean and 95% confidence interval of `xs` (non-finite values are ignored). `None` when no
/// value is left.
pub fn mean_ci95(xs: &[f64]) -> Option<Estimate> {
    let xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let ci95 = t975(n - 1).map(|t| {
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = t * (var / n as f64).sqrt();
        [mean - half, mean + half]
    });
    Some(Estimate { n, mean, ci95 })
}

/// The mean of the per-round ratios `a / b` with its 95% confidence interval, pairing values
/// by round number (rounds missing on either side, and rounds where `b` is not positive, are
/// left out). `None` when no round pairs up.
pub fn paired_ratio_ci95(a: &[(usize, f64)], b: &[(usize, f64)]) -> Option<Estimate> {
    let ratios: Vec<f64> = a
        .iter()
        .filter_map(|&(round, x)| {
            b.iter()
                .find(|&&(r, _)| r == round)
                .and_then(|&(_, y)| (y > 0.0).then(|| x / y))
        })
        .collect();
    mean_ci95(&ratios)
}

/// Where a confidence interval lies against a reference value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Entirely above the reference.
    Above,
    /// Entirely below the reference.
    Below,
    /// It contains the reference: not distinguishable at 95%.
    Straddles,
    /// No interval (fewer than two values).
    NoInterval,
}

/// Whether `ci` lies entirely above `reference`, entirely below, or straddles it (an interval
/// touching the reference straddles it).
pub fn verdict(ci: Option<[f64; 2]>, reference: f64) -> Verdict {
    match ci {
        None => Verdict::NoInterval,
        Some([lo, _]) if lo > reference => Verdict::Above,
        Some([_, hi]) if hi < reference => Verdict::Below,
        Some(_) => Verdict::Straddles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() <= eps
    }

    #[test]
    fn t_quantiles_match_the_published_table() {
        // n values -> df = n - 1.
        for (n, want) in [
            (2, 12.706),
            (3, 4.303),
            (5, 2.776),
            (10, 2.262),
            (11, 2.228),
            (30, 2.045),
            (31, 2.042),
        ] {
            let t = t975(n - 1).unwrap();
            assert!(close(t, want, 0.001), "n={n}: {t} want {want}");
        }
        assert_eq!(t975(0), None);
    }

    #[test]
    fn t_quantiles_interpolate_between_table_rows() {
        // Exact values (from the regularised incomplete beta function) for df off the table.
        for (df, want) in [
            (35, 2.0301),
            (45, 2.0141),
            (70, 1.9944),
            (90, 1.9867),
            (150, 1.9759),
            (300, 1.9679),
            (2000, 1.9612),
            (100_000, 1.9600),
        ] {
            let t = t975(df).unwrap();
            assert!(close(t, want, 0.001), "df={df}: {t} want {want}");
        }
        // Decreasing towards the normal quantile.
        let mut last = f64::INFINITY;
        for df in 1..5000 {
            let t = t975(df).unwrap();
            assert!(t <= last && t > Z975, "df={df}: {t}");
            last = t;
        }
    }

    #[test]
    fn ci_of_a_known_sample() {
        // 10, 12, 14, 16, 18: mean 14, s = √10, t(0.975, 4) = 2.7764,
        // half = 2.7764 · √10 / √5 = 2.7764 · √2 = 3.9264.
        let e = mean_ci95(&[10.0, 12.0, 14.0, 16.0, 18.0]).unwrap();
        assert_eq!(e.n, 5);
        assert!(close(e.mean, 14.0, 1e-12));
        let [lo, hi] = e.ci95.unwrap();
        assert!(close(lo, 14.0 - 3.9264, 1e-3), "{lo}");
        assert!(close(hi, 14.0 + 3.9264, 1e-3), "{hi}");
        assert!(close(e.half_width().unwrap(), 3.9264, 1e-3));
        // One value: a mean, no interval. None: nothing.
        let one = mean_ci95(&[7.0]).unwrap();
        assert_eq!((one.n, one.mean, one.ci95), (1, 7.0, None));
        assert_eq!(mean_ci95(&[]), None);
        assert_eq!(mean_ci95(&[f64::NAN]), None);
        // Identical values: a zero-width interval.
        assert_eq!(mean_ci95(&[3.0, 3.0]).unwrap().ci95, Some([3.0, 3.0]));
    }

    #[test]
    fn paired_ratio_ci_pairs_by_round() {
        // Rounds 1-3 pair up: ratios 1.1, 1.2, 1.3 -> mean 1.2, s = 0.1, t(2) = 4.3027,
        // half = 4.3027 · 0.1 / √3 = 0.24842. Round 4 has no partner; round 5's b is 0.
        let a = [(1, 110.0), (2, 120.0), (3, 130.0), (4, 500.0), (5, 9.0)];
        let b = [(3, 100.0), (1, 100.0), (2, 100.0), (5, 0.0)];
        let e = paired_ratio_ci95(&a, &b).unwrap();
        assert_eq!(e.n, 3);
        assert!(close(e.mean, 1.2, 1e-12));
        let [lo, hi] = e.ci95.unwrap();
        assert!(close(lo, 1.2 - 0.24842, 1e-4), "{lo}");
        assert!(close(hi, 1.2 + 0.24842, 1e-4), "{hi}");
        // The mean of ratios, not the ratio of means: (2/1 + 1/2) / 2 = 1.25, not 3/3.
        let e = paired_ratio_ci95(&[(1, 2.0), (2, 1.0)], &[(1, 1.0), (2, 2.0)]).unwrap();
        assert!(close(e.mean, 1.25, 1e-12));
        assert_eq!(paired_ratio_ci95(&[(1, 1.0)], &[(2, 1.0)]), None);
    }

    #[test]
    fn verdict_above_below_straddles() {
        assert_eq!(verdict(Some([1.01, 1.2]), 1.0), Verdict::Above);
        assert_eq!(verdict(Some([0.8, 0.99]), 1.0), Verdict::Below);
        assert_eq!(verdict(Some([0.95, 1.05]), 1.0), Verdict::Straddles);
        assert_eq!(verdict(Some([1.0, 1.05]), 1.0), Verdict::Straddles);
        assert_eq!(verdict(Some([0.9, 1.0]), 1.0), Verdict::Straddles);
        assert_eq!(verdict(None, 1.0), Verdict::NoInterval);
        // Ratios 1.18, 1.20, 1.22: mean 1.2 ± 4.3027 · 0.02 / √3 = [1.150, 1.250], read
        // against 1.0, the HAProxy target of 1.2x and the nginx target of 1.3x.
        let a = [(1, 118.0), (2, 120.0), (3, 122.0)];
        let b = [(1, 100.0), (2, 100.0), (3, 100.0)];
        let e = paired_ratio_ci95(&a, &b).unwrap();
        assert_eq!(verdict(e.ci95, 1.0), Verdict::Above);
        assert_eq!(verdict(e.ci95, 1.2), Verdict::Straddles);
        assert_eq!(verdict(e.ci95, 1.3), Verdict::Below);
        // The wider 1.1, 1.2, 1.3 sample ([0.952, 1.448]) is not distinguishable from 1.0.
        let a = [(1, 110.0), (2, 120.0), (3, 130.0)];
        assert_eq!(
            verdict(paired_ratio_ci95(&a, &b).unwrap().ci95, 1.0),
            Verdict::Straddles
        );
    }
}
