/**
 * Types of assets.js, which scripts/build-settings.ts generates (gitignored)
 * from src/settings/client/: the bundled script and stylesheet. Committed so
 * that type-checking never needs a build.
 */
export declare const SCRIPT: string;
export declare const STYLE: string;
