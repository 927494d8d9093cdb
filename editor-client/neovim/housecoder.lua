-- housecoder for Neovim's built-in LSP client: completions from a local `housecoder serve`.
--
-- Copy this file to ~/.config/nvim/lua/housecoder.lua and call, from init.lua:
--
--   require("housecoder").setup({
--     cmd = { "housecoder", "serve" },  -- or { "/path/to/.venv/bin/python", "-m", "housecoder", "serve" }
--     settings = { context = { max_tokens = 768 } },  -- any sections of .housecoder.toml
--   })
--
-- A server shared over TCP (`housecoder serve --tcp`, Neovim 0.8 and later) instead of one per editor:
--   require("housecoder").setup({ tcp = { host = "127.0.0.1", port = 2087 } })
-- sends the token the server asks for, read at each connection from token_file (default: the file
-- `housecoder token --path` names, $XDG_CONFIG_HOME/housecoder/server-token or ~/.config/housecoder/...).
--
-- Ghost text from textDocument/inlineCompletion, <Tab> accepts it: Neovim 0.12 and later through
-- vim.lsp.inline_completion; Neovim 0.10 and 0.11 through this file's own (an extmark with inline virtual
-- text, the debounce and cancellation below). Neovim 0.7 to 0.9 (or `ghost_text = false`): the server
-- answers textDocument/completion with one item, which <C-x><C-o> (omnifunc) or a completion plugin shows.
-- Accepting either runs the item's command (housecoder.accepted), so the server counts accepted suggestions.
-- Commands: :HousecoderIndex, :HousecoderStatus, :HousecoderReloadAdapter [path], :HousecoderToggle [on|off].
--
-- Off is off: `enabled = false` (or :HousecoderToggle off) starts no server, stops the running ones and sends
-- nothing until it is turned on again. Per language: `filetypes` lists the buffers that get completions.

local M = {}

M.config = {
  enabled = true, -- false: no server and nothing sent (:HousecoderToggle turns it on)
  cmd = { "housecoder", "serve" },
  -- { host = "127.0.0.1", port = 2087 }: connect to a running `housecoder serve --tcp` instead of `cmd`
  tcp = nil,
  token_file = nil, -- the TCP server's token; nil: the default place `housecoder token` writes it
  -- The languages the indexer parses (tree-sitter grammars); other buffers are still sent as context.
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "cs", "ruby", "php",
  },
  root_markers = { ".git", ".housecoder.toml", "pyproject.toml" },
  settings = {},
  accept_key = "<Tab>",
  -- Neovim 0.10 and 0.11: ghost text drawn by this file (false: the textDocument/completion item instead).
  ghost_text = true,
  -- Wait after the last keystroke before asking the server (this file's ghost text); a newer keystroke
  -- cancels the request in flight, and the server stops generating at its next token.
  debounce_ms = 150,
}

local uv = vim.uv or vim.loop
local NEW_API = vim.fn.has("nvim-0.11") == 1 -- client:request(...) rather than client.request(...)

--- `client:method(...)` on Neovim 0.11+, `client.method(...)` before.
local function call(client, method, ...)
  if NEW_API then
    return client[method](client, ...)
  end
  return client[method](...)
end

--- Run an LSP command the server handed out with an item (housecoder.accepted) on the server.
local function run_command(client, command, bufnr)
  if command == nil then
    return
  end
  if client.exec_cmd then -- Neovim 0.11+
    client:exec_cmd(command, { bufnr = bufnr })
  else
    call(client, "request", "workspace/executeCommand", command, function() end, bufnr)
  end
end

-- -- ghost text for Neovim 0.10 and 0.11 ----------------------------------------------------------------

local ghost_ns = vim.api.nvim_create_namespace("housecoder-ghost")
local ghosts = {} -- bufnr -> { client, timer, request, tick, row, col, item, text, shown_at, key_at }

--- Whether this Neovim gets this file's ghost text (0.12 has its own; before 0.10 no inline virtual text).
local function own_ghost_text()
  return M.config.ghost_text and vim.lsp.inline_completion == nil and vim.fn.has("nvim-0.10") == 1
end

local function ghost_clear(bufnr)
  local state = ghosts[bufnr]
  if state == nil then
    return
  end
  state.timer:stop()
  if state.request then
    pcall(call, state.client, "cancel_request", state.request)
    state.request = nil
  end
  state.item, state.text = nil, nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ghost_ns, 0, -1)
  end
end

local function ghost_show(bufnr, state, row, col, text)
  local lines = vim.split(text, "\n", { plain = true })
  local extra = {}
  for i = 2, #lines do
    table.insert(extra, { { lines[i], "HousecoderGhost" } })
  end
  vim.api.nvim_buf_set_extmark(bufnr, ghost_ns, row, col, {
    virt_text = { { lines[1], "HousecoderGhost" } },
    virt_text_pos = "inline",
    virt_lines = #extra > 0 and extra or nil,
    hl_mode = "combine",
  })
  state.text = text
  state.shown_at = uv.hrtime()
end

--- Ask the server for an inline completion at the cursor; show the first item where it still applies.
local function ghost_request(bufnr)
  local state = ghosts[bufnr]
  if state == nil or vim.api.nvim_get_current_buf() ~= bufnr or not vim.api.nvim_get_mode().mode:find("^i") then
    return
  end
  local client = state.client
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 2 } -- Automatic
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local ok, id
  ok, id = call(client, "request", "textDocument/inlineCompletion", params, function(err, result)
    if state.request == id then
      state.request = nil
    end
    if err or result == nil or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
      or not vim.api.nvim_get_mode().mode:find("^i") then
      return -- an error, nothing, or the buffer moved on: a newer request is coming
    end
    local now = vim.api.nvim_win_get_cursor(0)
    if now[1] ~= cursor[1] or now[2] ~= cursor[2] then
      return
    end
    local item = (result.items or result)[1]
    local start = item and item.range and item.range.start
    -- Shown where it starts at the cursor (housecoder's items do), as plain text.
    if item == nil or type(item.insertText) ~= "string" or item.insertText == ""
      or (start and (start.line ~= params.position.line or start.character ~= params.position.character)) then
      return
    end
    vim.api.nvim_buf_clear_namespace(bufnr, ghost_ns, 0, -1)
    state.item = item
    ghost_show(bufnr, state, cursor[1] - 1, cursor[2], item.insertText)
  end, bufnr)
  state.request = ok and id or nil
end

--- Accept the ghost text shown in the current buffer: insert it, move past it, report the accept.
--- Returns false when none is shown.
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local state = ghosts[bufnr]
  if state == nil or state.text == nil then
    return false
  end
  local item, text = state.item, state.text
  local mark = vim.api.nvim_buf_get_extmarks(bufnr, ghost_ns, 0, -1, { limit = 1 })[1]
  ghost_clear(bufnr)
  if mark == nil then
    return false
  end
  local row, col = mark[2], mark[3]
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  vim.api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  run_command(state.client, item.command, bufnr)
  return true
end

--- The ghost text now shown in a buffer, for scripts and tests: { text, item, shown_at, key_at } (hrtime, ns).
function M.ghost(bufnr)
  local state = ghosts[bufnr or vim.api.nvim_get_current_buf()]
  if state == nil then
    return nil
  end
  return { text = state.text, item = state.item, shown_at = state.shown_at, key_at = state.key_at }
end

local function ghost_attach(client, bufnr)
  vim.api.nvim_set_hl(0, "HousecoderGhost", { link = "Comment", default = true })
  if ghosts[bufnr] then
    ghost_clear(bufnr)
  end
  local state = { client = client, timer = uv.new_timer() }
  ghosts[bufnr] = state
  local group = vim.api.nvim_create_augroup("housecoder-ghost-" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd("TextChangedI", {
    buffer = bufnr,
    group = group,
    callback = function()
      ghost_clear(bufnr)
      state.key_at = uv.hrtime()
      state.timer:start(M.config.debounce_ms, 0, vim.schedule_wrap(function()
        ghost_request(bufnr)
      end))
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    buffer = bufnr,
    group = group,
    callback = function()
      local mark = vim.api.nvim_buf_get_extmarks(bufnr, ghost_ns, 0, -1, { limit = 1 })[1]
      local cursor = vim.api.nvim_win_get_cursor(0)
      if mark and (mark[2] ~= cursor[1] - 1 or mark[3] ~= cursor[2]) then
        ghost_clear(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    buffer = bufnr,
    group = group,
    callback = function()
      ghost_clear(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    buffer = bufnr,
    group = group,
    callback = function(args)
      if args.data and args.data.client_id == client.id then
        ghost_clear(bufnr)
        state.timer:close()
        ghosts[bufnr] = nil
        vim.api.nvim_del_augroup_by_id(group)
      end
    end,
  })
  vim.keymap.set("i", M.config.accept_key, function()
    if ghosts[bufnr] and ghosts[bufnr].text then
      return "<Cmd>lua require('housecoder').accept()<CR>"
    end
    return M.config.accept_key
  end, { buffer = bufnr, expr = true, replace_keycodes = true, desc = "housecoder: accept the ghost text" })
end

--- The rest of a housecoder item after the word the menu inserted: Neovim 0.10 and 0.11 insert a plain-text
--- item's text only up to its first blank ("return x" gives "return"), and apply the rest only for snippets.
local function complete_rest(bufnr, item, word)
  local new_text = type(item.textEdit) == "table" and item.textEdit.newText or item.insertText
  if type(new_text) ~= "string" or #new_text <= #word or new_text:sub(1, #word) ~= word then
    return
  end
  local lines = vim.split(new_text:sub(#word + 1), "\n", { plain = true })
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local function insert()
    vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
    vim.api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  end
  if not pcall(insert) then
    vim.schedule(insert) -- an editor that forbids changing the text in CompleteDone
  end
end

--- The completion fallback: accepting the housecoder item from the menu inserts all of it and runs its
--- command (housecoder.accepted).
local function complete_done_attach(client, bufnr)
  vim.api.nvim_create_autocmd("CompleteDone", {
    buffer = bufnr,
    group = vim.api.nvim_create_augroup("housecoder-complete-" .. bufnr, { clear = true }),
    callback = function()
      local reason = vim.v.event and vim.v.event.reason
      if reason ~= nil and reason ~= "accept" then
        return -- Neovim 0.10+: cancelled or discarded
      end
      local completed = vim.v.completed_item
      local data = type(completed) == "table" and type(completed.user_data) == "table" and completed.user_data
      local item = data and data.nvim and data.nvim.lsp and data.nvim.lsp.completion_item
      local command = type(item) == "table" and item.command
      if type(command) ~= "table" or command.command ~= "housecoder.accepted" then
        return -- another server's item, or none
      end
      complete_rest(bufnr, item, completed.word or "")
      run_command(client, command, bufnr)
    end,
  })
end

-- -- the client ------------------------------------------------------------------------------------------

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
    if not M.config.enabled or not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_get_current_buf() ~= bufnr then
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

--- Ghost text: Neovim's own (0.12+; it runs the item's command on accept) or this file's (0.10, 0.11);
--- the completion fallback otherwise.
function M.on_attach(client, bufnr)
  watch_cursor(client, bufnr)
  if vim.lsp.inline_completion and M.config.ghost_text then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    vim.keymap.set("i", M.config.accept_key, function()
      if not vim.lsp.inline_completion.get() then
        return M.config.accept_key
      end
    end, { buffer = bufnr, expr = true, desc = "housecoder: accept the inline completion" })
  elseif own_ghost_text() then
    ghost_attach(client, bufnr)
  else
    vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
    complete_done_attach(client, bufnr)
  end
end

--- The client's capabilities: with this file's ghost text, it announces inline completion, so the server
--- leaves textDocument/completion empty (a completion plugin would otherwise pay for the same model run).
local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  if own_ghost_text() then
    caps.textDocument.inlineCompletion = { dynamicRegistration = false }
  end
  return caps
end

local function token_path()
  if M.config.token_file then
    return vim.fn.expand(M.config.token_file)
  end
  local base = os.getenv("XDG_CONFIG_HOME")
  if base == nil or base:sub(1, 1) ~= "/" then
    base = (os.getenv("HOME") or "") .. "/.config"
  end
  return base .. "/housecoder/server-token"
end

--- What starts or reaches the server: `cmd`, or a connection to the TCP server.
local function server_cmd()
  if not M.config.tcp then
    return M.config.cmd
  end
  if not (vim.lsp.rpc and vim.lsp.rpc.connect) then
    vim.notify("housecoder: a TCP server needs Neovim 0.8 or later; use cmd", vim.log.levels.ERROR)
    return M.config.cmd
  end
  return vim.lsp.rpc.connect(M.config.tcp.host or "127.0.0.1", M.config.tcp.port or 2087)
end

--- Over TCP, `initialize` carries the user's token, read as the connection starts (a rotation takes effect).
local function before_init(params)
  if not M.config.tcp then
    return
  end
  local path = token_path()
  local lines = vim.fn.filereadable(path) == 1 and vim.fn.readfile(path, "", 1) or {}
  if lines[1] == nil or lines[1] == "" then
    vim.notify("housecoder: no server token in " .. path .. " (`housecoder token` makes it)", vim.log.levels.ERROR)
    return
  end
  params.initializationOptions = vim.tbl_extend("force", {}, M.config.settings, { token = lines[1] })
end

local function client_config(root)
  return {
    name = "housecoder",
    cmd = server_cmd(),
    root_dir = root,
    init_options = M.config.settings,
    before_init = before_init,
    capabilities = capabilities(),
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

--- Every running housecoder client.
local function clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = "housecoder" })
  end
  local found = {}
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == "housecoder" then
      table.insert(found, client)
    end
  end
  return found
end

--- Completions on (true), off (false) or flipped (nil). Off stops every housecoder server this Neovim runs
--- or reached and starts none; on starts them again for the open buffers of `filetypes`.
function M.toggle(on)
  if on == nil then
    on = not M.config.enabled
  end
  M.config.enabled = on
  if vim.lsp.config and vim.lsp.enable then -- Neovim 0.11+: no automatic start while off
    vim.lsp.enable("housecoder", on)
  end
  if not on then
    for _, client in ipairs(clients()) do
      for bufnr in pairs(ghosts) do
        ghost_clear(bufnr)
      end
      call(client, "stop")
    end
    started = {}
  elseif not (vim.lsp.config and vim.lsp.enable) or vim.v.vim_did_enter == 1 then
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
        M.start(bufnr)
      end
    end
  end
  vim.notify("housecoder: completions " .. (on and "on" or "off"), vim.log.levels.INFO)
  return on
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
  vim.api.nvim_create_user_command("HousecoderToggle", function(opts)
    if opts.args ~= "" and opts.args ~= "on" and opts.args ~= "off" then
      vim.notify("housecoder: :HousecoderToggle takes on, off or nothing", vim.log.levels.ERROR)
      return
    end
    local on = nil -- nothing: flip
    if opts.args ~= "" then
      on = opts.args == "on"
    end
    M.toggle(on)
  end, {
    nargs = "?",
    complete = function()
      return { "on", "off" }
    end,
    desc = "housecoder: completions on or off (off: no server, nothing sent)",
  })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  commands()
  if vim.lsp.config and vim.lsp.enable then -- Neovim 0.11+
    vim.lsp.config("housecoder", {
      cmd = server_cmd(),
      filetypes = M.config.filetypes,
      root_markers = M.config.root_markers,
      init_options = M.config.settings,
      before_init = before_init,
      capabilities = capabilities(),
      on_attach = M.on_attach,
    })
    vim.lsp.enable("housecoder", M.config.enabled)
    return
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("housecoder", { clear = true }),
    pattern = M.config.filetypes,
    callback = function(args)
      if M.config.enabled then
        M.start(args.buf)
      end
    end,
  })
end

return M
