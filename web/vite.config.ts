// The web client: root is web/, output web/dist (served by the Fastify server), `@shared` is the
// repository's shared/ folder so server and client use one permission list.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const shared = fileURLToPath(new URL('../shared', import.meta.url));
// Where `vite` (dev) and `vite preview` send /api: the Tongxin server, port 3000 unless told otherwise.
const apiTarget = process.env.TONGXIN_API_URL || 'http://127.0.0.1:3000';

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: {
      '@shared': shared,
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  define: {
    // vue-i18n: composition API only, no devtools in production (smaller bundle, no eval: CSP script-src 'self').
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
  },
  server: {
    port: 5173,
    fs: { allow: [webRoot, shared, fileURLToPath(new URL('../node_modules', import.meta.url))] },
    proxy: { '/api': apiTarget },
  },
  preview: {
    port: 4173,
    proxy: { '/api': apiTarget },
    // The server's Content-Security-Policy, so a preview catches anything the real deployment would block.
    headers: { 'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'" },
  },
});
