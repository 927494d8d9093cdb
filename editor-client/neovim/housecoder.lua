-- housecoder for Neovim's built-in LSP client: completions from a local `housecoder serve`.
--
-- Copy this file to ~/.config/nvim/lua/housecoder.lua and call, from init.lua:
--
--   require("housecoder").setup({
--     cmd = { "housecoder", "serve" },  -- or { "/path/to/.venv/bin/python", "-m", "housecoder", "serve" }
--     settings = { context = { max_tokens = 768 } },  -- any sections of .housecoder.toml
--   })
--
-- Neovim 0.12 and later show inline (ghost text) completions from textDocument/inlineCompletion;
-- <Tab> accepts one. Neovim 0.7 to 0.11 have no inline completions: the server then answers
-- textDocument/completion with one item, which <C-x><C-o> (omnifunc) or a completion plugin shows.
-- Commands: :HousecoderIndex, :HousecoderStatus, :HousecoderReloadAdapter [path].

local M = {}

M.config = {
  cmd = { "housecoder", "serve" },
  -- The languages the indexer parses (tree-sitter grammars); other buffers are still sent as context.
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "cs", "ruby", "php",
  },
  root_markers = { ".git", ".housecoder.toml", "pyproject.toml" },
  settings = {},
  accept_key = "<Tab>",
}

local uv = vim.uv or vim.loop

local function find_root(file)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return vim.fn.fnamemodify(file, ":p:h")
    end
    dir = parent
  end
end

--- Tell the server where the cursor settled when it moves to another line or buffer (300 ms after the last
--- move), so that it prefills that line's prompt while the user is idle: the first keystroke there is then fast.
local function watch_cursor(client, bufnr)
  local timer = uv.new_timer()
  local sent = nil
  local function send()
    if not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_get_current_buf() ~= bufnr then
      return
    end
    local cursor = vim.api.nvim_win_get_cursor(0)
    local key = cursor[1]
    if key == sent then
      return
    end
    sent = key
    -- the column in the client's negotiated position encoding (UTF-8, -16 or -32)
    local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
    if vim.fn.has("nvim-0.11") == 1 then
      client:notify("housecoder/cursor", params)
    else
      client.notify("housecoder/cursor", params)
    end
  end
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI", "BufEnter" }, {
    buffer = bufnr,
    group = vim.api.nvim_create_augroup("housecoder-cursor-" .. bufnr, { clear = true }),
    callback = function(args)
      if args.event == "BufEnter" then
        sent = nil
      end
      timer:stop()
      timer:start(300, 0, vim.schedule_wrap(send))
    end,
  })
end

--- Inline completions where Neovim has them (0.12+), the completion fallback otherwise.
function M.on_attach(client, bufnr)
  watch_cursor(client, bufnr)
  if vim.lsp.inline_completion then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    vim.keymap.set("i", M.config.accept_key, function()
      if not vim.lsp.inline_completion.get() then
        return M.config.accept_key
      end
    end, { buffer = bufnr, expr = true, desc = "housecoder: accept the inline completion" })
  else
    vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
  end
end

local function client_config(root)
  return {
    name = "housecoder",
    cmd = M.config.cmd,
    root_dir = root,
    init_options = M.config.settings,
    on_attach = M.on_attach,
  }
end

local started = {} -- root -> client id, for Neovim 0.7, which has no vim.lsp.start

--- Start the server for a buffer's project (one per root) and attach the buffer (Neovim 0.7 to 0.10).
function M.start(bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == "" or vim.bo[bufnr].buftype ~= "" then
    return
  end
  local root = find_root(file)
  if vim.lsp.start then
    vim.lsp.start(client_config(root), { bufnr = bufnr })
    return
  end
  local id = started[root]
  if id == nil or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(client_config(root))
    started[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

--- The housecoder client attached to a buffer, if any.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = "housecoder" })[1]
  end
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "housecoder" then
      return client
    end
  end
end

--- Run a server command (`housecoder.index`, `housecoder.status`, ...); `callback(err, result)`.
function M.execute(command, arguments, callback, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    vim.notify("housecoder: no server attached to this buffer", vim.log.levels.WARN)
    return
  end
  local params = { command = command, arguments = arguments or {} }
  local handler = function(err, result)
    callback(err, result)
  end
  if vim.fn.has("nvim-0.11") == 1 then
    client:request("workspace/executeCommand", params, handler, bufnr)
  else
    client.request("workspace/executeCommand", params, handler, bufnr)
  end
end

local function report(err, text)
  if err then
    vim.notify("housecoder: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
  else
    vim.notify(text, vim.log.levels.INFO)
  end
end

local function commands()
  vim.api.nvim_create_user_command("HousecoderIndex", function()
    M.execute("housecoder.index", {}, function(err, result)
      local lines = {}
      for _, folder in ipairs(result or {}) do
        table.insert(lines, folder.error or string.format("%s: %d files indexed, %d chunks", folder.root,
          folder.indexed or 0, folder.chunks or 0))
      end
      report(err, "housecoder: " .. table.concat(lines, "; "))
    end)
  end, { desc = "housecoder: index the workspace (progress in $/progress)" })
  vim.api.nvim_create_user_command("HousecoderStatus", function()
    M.execute("housecoder.status", {}, function(err, result)
      report(err, "housecoder: " .. vim.inspect(result))
    end)
  end, { desc = "housecoder: model, adapter and index of each folder" })
  vim.api.nvim_create_user_command("HousecoderReloadAdapter", function(opts)
    local arguments = opts.args ~= "" and { vim.fn.expand(opts.args) } or {}
    M.execute("housecoder.reloadAdapter", arguments, function(err, result)
      report(err, "housecoder: adapter " .. tostring(result and result.adapter or "none"))
    end)
  end, { nargs = "?", complete = "dir", desc = "housecoder: switch the LoRA adapter (none: models.adapter)" })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  commands()
  if vim.lsp.config and vim.lsp.enable then -- Neovim 0.11+
    vim.lsp.config("housecoder", {
      cmd = M.config.cmd,
      filetypes = M.config.filetypes,
      root_markers = M.config.root_markers,
      init_options = M.config.settings,
      on_attach = M.on_attach,
    })
    vim.lsp.enable("housecoder")
    return
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("housecoder", { clear = true }),
    pattern = M.config.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
  })
end

return M
