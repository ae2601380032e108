/**
 * EGL_PLATFORM=surfaceless for headless Linux, so that Dawn's OpenGL backend can open Mesa (llvmpipe on GPU-less
 * machines) without a display. Mesa reads it with getenv(): only an assignment to process.env on the MAIN thread
 * reaches the C environment; a worker thread's process.env is its own copy. So the engine host sets it before it
 * starts the engine worker, and webgpu.ts sets it again for code that uses the backend on the main thread.
 */
export function ensureHeadlessEglPlatform(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): void {
  if (platform !== 'linux' || env.EGL_PLATFORM || env.DISPLAY || env.WAYLAND_DISPLAY) return;
  env.EGL_PLATFORM = 'surfaceless';
}
