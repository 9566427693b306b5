//! Small dense linear algebra: the Cholesky factor and solve behind the cell-type
//! projection (Houseman et al. 2012) and the age-acceleration fits. Row-major `n × n`
//! matrices; n is the number of cell types or covariates (at most a few dozen), so plain
//! loops beat a BLAS dependency.

/// Lower Cholesky factor of a symmetric positive-definite `n × n` matrix (row-major), or
/// `None` when it is not (numerically) positive definite.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let scale = (0..n).map(|i| a[i * n + i].abs()).fold(0.0, f64::max);
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s = a[i * n + j] - (0..j).map(|p| l[i * n + p] * l[j * n + p]).sum::<f64>();
            if i == j {
                if s <= 1e-13 * scale || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` with the factor from [`cholesky`].
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|p| l[i * n + p] * y[p]).sum::<f64>()) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|p| l[p * n + i] * x[p]).sum::<f64>()) / l[i * n + i];
    }
    x
}
