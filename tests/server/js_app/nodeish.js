exports = function (text) {
  const b64 = Buffer.from(text).toString("base64");
  let required;
  try { require("axios"); } catch (e) { required = e.message; }
  return {
    b64, back: Buffer.from(b64, "base64").toString(), hex: Buffer.from(text).toString("hex"),
    btoa: btoa("hi"), atob: atob("aGk="), required,
    httpError: (() => { try { context.http.post({ url: "https://example.com" }); } catch (e) { return e.message; } })(),
  };
};
