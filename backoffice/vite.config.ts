import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app at http://localhost:5173/backoffice/ and hands /api to a running
// gateway (WATTLINE_GATEWAY, e.g. http://127.0.0.1:8000), so the session cookie stays first-party.
const gateway = process.env.WATTLINE_GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/backoffice/",
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    // The gateway's CSP allows no inline script: keep every module an external, hashed file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { "/api": { target: gateway, changeOrigin: false } },
  },
});
