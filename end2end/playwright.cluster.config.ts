import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

const port = Number(process.env.HAVEN_E2E_CLUSTER_PORT ?? 3467);

// The same browsers and settings, against two nodes behind HAProxy (scripts/cluster.sh).
export default defineConfig({
  ...base,
  testDir: "./cluster",
  timeout: 60_000,
  use: { ...base.use, baseURL: `http://127.0.0.1:${port}` },
  webServer: {
    command: "./serve-cluster.sh",
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: { HAVEN_E2E_CLUSTER_PORT: String(port) },
  },
});
