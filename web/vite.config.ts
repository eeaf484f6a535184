import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

// The build goes to dist/, which is committed and embedded into the server binary, so
// `go run` needs no Node. During `npm run dev` the API is proxied to a local server.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  worker: { format: 'es' },
  server: {
    proxy: { '/api': { target: 'http://localhost:8080', changeOrigin: false } },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
})
