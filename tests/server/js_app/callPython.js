exports = async function (x) {
  return { doubled: await context.functions.execute("py_double", x),
           secret: await context.functions.execute("hidden", x) };
};
