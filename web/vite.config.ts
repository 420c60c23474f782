import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The run viewer, built into web/dist and served by the standalone service at `/`. Everything is
 * bundled (no CDN), with no inline script or style, so the pages run under a CSP of `'self'`.
 * `npm run dev -w web` serves it with hot reload and forwards the API to a service on :3000.
 */
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The CSP allows no inline script: keep Vite's module-preload helper in a file of its own.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000', '/ui-config.json': 'http://127.0.0.1:3000' },
  },
});
