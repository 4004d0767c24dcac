//! The cube root CUBIC needs, without `f64::cbrt`: on wasm32 that is libm's `cbrt`, which
//! links `fma` too (2.1 KB of code before `wasm-opt`, docs/performance.md); a few Newton steps
//! from a bit-level first guess are as exact for the rates a limiter sees.

/// The cube root of `x` (to within a few units in the last place for normal numbers); zero,
/// infinities and NaN are returned as they are.
pub(crate) fn cbrt(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let a = x.abs();
    // Dividing the bits by three divides the exponent by three; the constant puts the bias
    // back (and tunes the mantissa), so the guess is within a few percent of the root.
    let mut r = f64::from_bits(a.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    // Newton's method on r³ - a: the relative error squares each step (3% -> 1e-3 -> 1e-6 ->
    // 1e-12 -> below f64's precision); the fifth step covers subnormal first guesses.
    for _ in 0..6 {
        r = (2.0 * r + a / (r * r)) / 3.0;
    }
    r.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::cbrt;

    #[test]
    fn matches_the_standard_cube_root() {
        let mut x = 1e-9_f64;
        while x < 1e15 {
            for v in [x, -x, x * 1.37, x * 2.9] {
                let (got, want) = (cbrt(v), v.cbrt());
                assert!(
                    ((got - want) / want).abs() < 1e-14,
                    "cbrt({v}) = {got}, not {want}"
                );
            }
            x *= 1.9;
        }
    }

    #[test]
    fn extremes_and_special_values() {
        for v in [1e-300, 1e300, f64::MIN_POSITIVE, f64::MAX, 27.0, -8.0] {
            let (got, want) = (cbrt(v), v.cbrt());
            assert!(
                ((got - want) / want).abs() < 1e-14,
                "cbrt({v}) = {got}, not {want}"
            );
        }
        assert_eq!(cbrt(0.0), 0.0);
        assert_eq!(cbrt(f64::INFINITY), f64::INFINITY);
        assert_eq!(cbrt(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(cbrt(f64::NAN).is_nan());
    }
}
