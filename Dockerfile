# Build: compile TypeScript, then keep production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production CA_DIR=/ca WORKFLOWS_DIR=/app/workflows
WORKDIR /app
RUN useradd --system --uid 10001 accessbot \
 && mkdir -p /ca && chown accessbot /ca && chmod 700 /ca \
 && mkdir -p /audit && chown accessbot /audit
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY workflows ./workflows
USER accessbot
EXPOSE 3000
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
