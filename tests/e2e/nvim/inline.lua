-- Headless Neovim (0.10+) for tests/e2e/test_neovim_inline.py, which types into it from outside
-- (`nvim --server SOCK --remote-send`) like a person and reads its state back with
-- `--remote-expr 'luaeval("HousecoderTest.state()")'`: the documented set-up
-- (editor-client/neovim/housecoder.lua) with its ghost text, on a file of the fixture repository.
--
-- The spec (a JSON file named by $HOUSECODER_NVIM_SPEC): snippet_dir, cmd, settings, file, ghost_text.

local spec = vim.json.decode(table.concat(vim.fn.readfile(os.getenv("HOUSECODER_NVIM_SPEC")), "\n"))
vim.lsp.set_log_level("debug") -- $XDG_CACHE_HOME/nvim/lsp.log, shown by the test when it fails
package.path = spec.snippet_dir .. "/?.lua;" .. package.path
local housecoder = require("housecoder")
housecoder.setup({
  cmd = spec.cmd, tcp = spec.tcp, settings = spec.settings, ghost_text = spec.ghost_text, enabled = spec.enabled ~= false,
})
vim.cmd("filetype on")
vim.o.completeopt = "menuone,noselect"
vim.cmd("edit " .. vim.fn.fnameescape(spec.file))

local status = nil
local last_key = nil
vim.on_key(function()
  last_key = vim.uv.hrtime()
end)

HousecoderTest = {}

--- Ask housecoder.status (async): the next state() says whether the model is ready.
function HousecoderTest.poll()
  local client = housecoder.client(0)
  if client and client.initialized then
    housecoder.execute("housecoder.status", {}, function(err, result)
      status = err and { error = err.message } or result
    end)
  end
  return true
end

--- What the test checks, as JSON.
function HousecoderTest.state()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = housecoder.client(bufnr)
  local ghost = housecoder.ghost(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, -1, 0, -1, { details = true })
  local virtual = {}
  for _, mark in ipairs(marks) do
    local details = mark[4]
    if details.virt_text then
      local chunks = {}
      for _, chunk in ipairs(details.virt_text) do
        table.insert(chunks, chunk[1])
      end
      table.insert(virtual, { row = mark[2], col = mark[3], text = table.concat(chunks), pos = details.virt_text_pos,
        hl = details.virt_text[1][2], lines = details.virt_lines and #details.virt_lines or 0 })
    end
  end
  return vim.json.encode({
    nvim_version = tostring(vim.version()),
    mode = vim.api.nvim_get_mode().mode,
    client = client and client.name or vim.NIL,
    initialized = client and client.initialized or false,
    announces_inline = client and client.capabilities.textDocument.inlineCompletion ~= nil or false,
    model_state = status and status.model_state or vim.NIL,
    feedback = status and status.feedback or vim.NIL,
    omnifunc = vim.bo[bufnr].omnifunc,
    lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, true),
    cursor = vim.api.nvim_win_get_cursor(0),
    virtual = virtual,
    ghost = ghost and ghost.text or vim.NIL,
    command = ghost and ghost.item and ghost.item.command or vim.NIL,
    ghost_ms = ghost and ghost.shown_at and last_key and (ghost.shown_at - last_key) / 1e6 or vim.NIL,
    pum_visible = vim.fn.pumvisible() == 1,
    clients = #(vim.lsp.get_clients and vim.lsp.get_clients({ name = "housecoder" }) or {}),
    enabled = housecoder.config.enabled,
  })
end
