exports = ({ token, tokenId, username, password }, answer) => ({
  status: answer === "blue" && password.length > 7 ? "success" : "fail",
});
