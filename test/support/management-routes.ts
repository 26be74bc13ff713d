/** Every management API operation (docs/design.md §8), as OpenAPI names them: [method, path]. */
export const MANAGEMENT_ROUTES = [
  ["post", "/api/v1/api-keys"],
  ["get", "/api/v1/api-keys"],
  ["get", "/api/v1/api-keys/self"],
  ["get", "/api/v1/api-keys/{id}"],
  ["patch", "/api/v1/api-keys/{id}"],
  ["delete", "/api/v1/api-keys/{id}"],
  ["post", "/api/v1/api-keys/{id}/rotate"],
  ["get", "/api/v1/api-keys/{id}/events"],
  ["get", "/api/v1/api-keys/{id}/usage"],
] as const;
