/** What `render` writes: host bundles or Kubernetes manifests. */
export const RENDER_TARGETS = ['hosts', 'kubernetes'] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];
