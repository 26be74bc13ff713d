/**
 * The layers of src/, lowest first (docs/development.md draws them). A module
 * may import its own layer and the layers below it, never one above; and no
 * import cycle anywhere. `npm test` runs this (npm run layers).
 */
const LAYERS = [
  ["primitives", "^src/(errors|log|env)\\.ts$|^src/(crypto|memory)/"],
  // The scope catalog is a rule the configuration validates against (OIDC_ROLE_SCOPES).
  ["request rules", "^src/(request|limits)/|^src/auth/scopes\\.ts$"],
  ["configuration", "^src/config\\.ts$"],
  ["key material", "^src/keys/"],
  ["storage", "^src/storage/"],
  ["request steps", "^src/(auth/(?!scopes\\.ts$)|(people|proxy|usage|identity)/)"],
  ["routes", "^src/routes/"],
  ["key management", "^src/management/"],
  ["gateway", "^src/gateway/"],
  ["handlers", "^src/(api|settings)/"],
  ["entry", "^src/(app|index)\\.ts$"],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name.replace(/ /g, "-")}`,
  comment: `${name} must not import a layer above it`,
  severity: "error",
  from: { path },
  to: {
    path: LAYERS.slice(i + 1)
      .map(([, p]) => `(${p})`)
      .join("|"),
  },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "import cycles make layers meaningless (a cycle through type-only imports erases at compile time)",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-unlayered",
      comment: "every module of src/ belongs to a layer above",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.map(([, p]) => `(${p})`).join("|") },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/settings/generated/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
