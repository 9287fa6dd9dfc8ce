//! EKS's own vocabulary: the ServiceAccount annotations the pod identity webhook reads, the
//! default token audience, and the Pod Identity service principal.

pub const ROLE_ARN_KEY: &str = "eks.amazonaws.com/role-arn";
pub const AUDIENCE_KEY: &str = "eks.amazonaws.com/audience";
pub const REGIONAL_STS_KEY: &str = "eks.amazonaws.com/sts-regional-endpoints";
pub const TOKEN_EXPIRATION_KEY: &str = "eks.amazonaws.com/token-expiration";
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// The service principal a Pod Identity role trusts.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";
