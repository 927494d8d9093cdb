-- Headless Neovim, driven by tests/e2e/test_neovim.py: load the documented set-up
-- (editor-client/neovim/housecoder.lua), open a file of the fixture repository so that the built-in
-- LSP client starts `housecoder serve`, wait for its model, optionally index through the server
-- command, ask for a completion at the cursor both ways (textDocument/inlineCompletion as a raw
-- request, which this Neovim does not know, and textDocument/completion), accept each into the
-- buffer, and write what came back to the JSON file the spec names. Any failure is written there
-- too, then Neovim quits.
--
-- The spec (a JSON file named by $HOUSECODER_NVIM_SPEC): snippet_dir, cmd, settings, file,
-- line and col (0-based, col in bytes), index (bool), timeout_ms, output.

local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv("HOUSECODER_NVIM_SPEC")), "\n"))
local out = { nvim_version = tostring(vim.version().major) .. "." .. vim.version().minor .. "." .. vim.version().patch }

local function finish(code)
  vim.fn.writefile({ vim.fn.json_encode(out) }, spec.output)
  vim.cmd(code == 0 and "qall!" or "cquit " .. code)
end

local function request(bufnr, method, params)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, spec.timeout_ms)
  assert(responses, method .. ": no answer within " .. spec.timeout_ms .. " ms (" .. tostring(err) .. ")")
  for _, response in pairs(responses) do
    assert(response.error == nil, method .. ": " .. vim.inspect(response.error))
    return response.result
  end
  error(method .. ": no client answered")
end

-- Poll housecoder.status until the model is loaded, with short timeouts, so the index command and
-- the completion requests below are timed from a ready server (one lost answer costs one poll).
local function wait_for_model(bufnr)
  local deadline = vim.loop.now() + spec.timeout_ms
  while vim.loop.now() < deadline do
    local responses = vim.lsp.buf_request_sync(bufnr, "workspace/executeCommand",
      { command = "housecoder.status", arguments = {} }, 2000)
    for _, response in pairs(responses or {}) do
      local status = response.result
      if type(status) == "table" and status.model_state == "ready" then
        return status
      end
      if type(status) == "table" and status.model_state == "error" then
        error("the model did not load: " .. tostring(status.model_error))
      end
    end
    vim.wait(500)
  end
  error("the model was not ready within " .. spec.timeout_ms .. " ms")
end

local function line_text(bufnr, line)
  return vim.api.nvim_buf_get_lines(bufnr, line, line + 1, true)[1]
end

local function run()
  vim.lsp.set_log_level("debug") -- $XDG_CACHE_HOME/nvim/lsp.log, shown by the test when it fails
  package.path = spec.snippet_dir .. "/?.lua;" .. package.path
  local housecoder = require("housecoder")

  -- Record the server's $/progress reports as Neovim's own handler receives them.
  out.progress = {}
  local progress = vim.lsp.handlers["$/progress"]
  vim.lsp.handlers["$/progress"] = function(err, result, ctx, config)
    table.insert(out.progress, result and result.value or vim.NIL)
    return progress(err, result, ctx, config)
  end
  out.messages = {}
  vim.lsp.handlers["window/showMessage"] = function(_, result)
    table.insert(out.messages, result.message)
  end

  housecoder.setup({ cmd = spec.cmd, settings = spec.settings })
  vim.cmd("filetype on")
  vim.cmd("edit " .. vim.fn.fnameescape(spec.file))
  local bufnr = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[bufnr].filetype

  local client
  local up = vim.wait(spec.timeout_ms, function()
    client = housecoder.client(bufnr)
    return client ~= nil and client.initialized == true
  end, 50)
  assert(up, "the housecoder client did not start and initialize (filetype " .. out.filetype .. ")")
  out.client_name = client.name
  out.server_inline_provider = client.server_capabilities.inlineCompletionProvider ~= nil
  out.omnifunc = vim.bo[bufnr].omnifunc
  -- Neovim 0.12 announces inline completion, and the server then leaves textDocument/completion empty.
  out.announces_inline = vim.lsp.protocol.make_client_capabilities().textDocument.inlineCompletion ~= nil

  local status = wait_for_model(bufnr)
  out.model = { name = status.model, runtime = status.runtime, device = status.device }

  if spec.index then
    out.index = request(bufnr, "workspace/executeCommand", { command = "housecoder.index", arguments = {} })
  end

  -- Where the cursor is while typing (insert mode): possibly just after the line's last character.
  vim.o.virtualedit = "onemore"
  vim.api.nvim_win_set_cursor(0, { spec.line + 1, spec.col })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  out.line_before = line_text(bufnr, spec.line)
  local original = vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)

  params.context = { triggerKind = 1 } -- Invoked
  out.inline = request(bufnr, "textDocument/inlineCompletion", params)
  out.last = request(bufnr, "workspace/executeCommand",
    { command = "housecoder.lastCompletion", arguments = { params.textDocument.uri } })

  -- Accept the inline item: its insertText replaces its range (an empty range at the cursor).
  local item = out.inline and out.inline.items and out.inline.items[1]
  if item then
    vim.lsp.util.apply_text_edits({ { range = item.range, newText = item.insertText } }, bufnr, "utf-16")
    out.line_after_inline = line_text(bufnr, spec.line)
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, true, original)
  end
  if out.announces_inline then
    return
  end

  -- The completion fallback this Neovim uses (omnifunc), on the original buffer again.
  params.context = { triggerKind = 1 }
  out.completion = request(bufnr, "textDocument/completion", params)
  local completion = out.completion and out.completion.items and out.completion.items[1]
  if completion then
    vim.lsp.util.apply_text_edits({ completion.textEdit }, bufnr, "utf-16")
    out.line_after_completion = line_text(bufnr, spec.line)
  end
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  out.error = tostring(err)
end
local clients = vim.lsp.get_clients or vim.lsp.get_active_clients
for _, client in pairs(clients()) do
  vim.lsp.stop_client(client.id)
end
vim.wait(5000, function()
  return #clients() == 0
end, 50)
finish(ok and 0 or 1)
