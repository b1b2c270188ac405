exports = ({ token, tokenId, username }) => ({
  status: username.endsWith("@ok.test") && token && tokenId ? "success" : "fail",
});
