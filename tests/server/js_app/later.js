exports = async (ms) => {
  const started = Date.now();
  const cancelled = setTimeout(() => { throw new Error("cancelled timers do not fire"); }, 1);
  clearTimeout(cancelled);
  const value = await new Promise((resolve) => setTimeout(resolve, ms, "done"));
  return { value, waited: Date.now() - started >= ms };
};
