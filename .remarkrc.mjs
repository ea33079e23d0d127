// `npm run docs:check`: every local link and anchor of README.md and docs/ must resolve. Links to
// https://github.com/passport-x/passport-x/blob/main/... (the README's, so they work on npm's page
// too) are checked against the files of this checkout.
import remarkValidateLinks from 'remark-validate-links';

export default {
  plugins: [[remarkValidateLinks, { repository: 'https://github.com/passport-x/passport-x' }]],
};
