/* Generated from integration/tunables/schema.json by scripts/tunables-types.cjs (npm run generate:types). Do not edit. */

/**
 * The mutable elements of MITRE DET0543 (T1573.002) and the conventions that decide edge cases. Defaults ship in integration/tunables/defaults.yml; the live copy sits in the cluster.
 */
export interface Tunables {
  /**
   * AN1496: Windows process image names (case-insensitive) expected to load crypto libraries.
   */
  AllowedCryptoProcesses: string[];
  /**
   * AN1496/AN1500: issuer organisation or common-name substrings of trusted public CAs (case-insensitive).
   */
  CertificateAuthorityList: string[];
  /**
   * AN1496: a TLS handshake longer than this many milliseconds is abnormal.
   */
  HandshakeTimeout: number;
  /**
   * AN1497: Linux crypto library file-name prefixes (libssl.so matches libssl.so.3).
   */
  ExpectedCryptoLibs: string[];
  /**
   * AN1497: bytes sent / bytes received above which traffic is client-heavy.
   */
  TrafficAsymmetryRatio: number;
  /**
   * AN1498: DNS-over-HTTPS resolvers (host names or IP addresses) that are expected.
   */
  TrustedDoHEndpoints: string[];
  /**
   * AN1498: Shannon entropy in bits per byte above which a payload counts as encrypted or packed.
   */
  PayloadEntropyThreshold: number;
  /**
   * AN1499: hosts ESXi management services (hostd, vpxa) may talk TLS to: your vCenter(s) and update servers.
   */
  BaselineMgmtHosts: string[];
  /**
   * AN1500: destination ports where TLS is expected.
   *
   * @minItems 1
   */
  PortProfiles: [number, ...number[]];
  /**
   * AN1500: what counts as an invalid certificate.
   */
  CertValidationPolicy: {
    /**
     * Self-signed certificates are acceptable.
     */
    allow_self_signed: boolean;
    /**
     * A leaf certificate valid for longer is suspicious (public CAs: 398).
     */
    max_validity_days: number;
    /**
     * Shorter RSA keys are weak.
     */
    min_rsa_key_bits: number;
    /**
     * The issuer must be in CertificateAuthorityList.
     */
    require_trusted_issuer: boolean;
  };
  /**
   * CIDR ranges that are internal; everything else is external. network.direction follows from it.
   *
   * @minItems 1
   */
  InternalNetworks: [string, ...string[]];
  /**
   * How far apart the events of one attack may be (e.g. 15m, 1h).
   */
  CorrelationWindow: string;
  /**
   * The lowest correlator score (0-100) that raises an alert.
   */
  ScoreThreshold: number;
}
