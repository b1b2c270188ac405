exports = async (name) => {
  const greeting = await Promise.resolve(context.values.get("greeting"));
  return { message: `${greeting}, ${name}`, tag: context.environment.tag };
};
