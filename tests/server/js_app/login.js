// A custom-function authentication function: the payload in, the external user id out.
exports = async (payload) => {
  if (payload.token !== "let-me-in") throw new Error("unknown token");
  return { id: `js-${payload.user}`, name: payload.user };
};
