/**
 * src/ is written for the Workers runtime, where `CryptoKey` is a global type.
 * Node has the same Web Crypto object as `webcrypto.CryptoKey`, but @types/node 22
 * does not declare the global name; scripts that reuse src/keys need it.
 */
type CryptoKey = import("node:crypto").webcrypto.CryptoKey;
