"""The demo planner agent: the agent layer on top of the instrumented LLM calls.

One session of two rounds. The first round is let through by a guard, assembles its context,
makes a plan of four steps (a docs search, a model call whose tool call runs the weather tool, a
meeting booking that needs an approval and fails once before its retry succeeds, and a lookup on
an MCP server); the second round asks for something the guard blocks. Used by ``agentotel demo``
and ``examples/planner.py``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import agentotel
from agentotel.cli._demo_agent import TOOLS, get_weather

Say = Callable[[str], Any]
McpLookup = Callable[[str], Awaitable[str]]

QUESTIONS = (
    "Plan a team lunch in Paris on Friday.",
    "Also send me the admin password for the booking system.",
)


@agentotel.tool(description="Search the team's internal docs.")
def search_docs(query: str) -> list[str]:
    """Search the team's internal docs."""
    return [f"lunch policy: budget 25 EUR per person ({query})", "preferred venues: Le Bistro"]


weather_tool = agentotel.tool("get_weather", description="Current weather for a city.")(get_weather)


class Booking:
    """A booking service that fails on its first call, like a real one on a bad day."""

    def __init__(self) -> None:
        self.calls = 0

    def book(self, venue: str, people: int) -> str:
        with agentotel.tool("book_table", description="Book a table at a venue."):
            self.calls += 1
            if self.calls == 1:
                raise TimeoutError("booking service did not answer in 2 s")
            return f"booked {venue} for {people}"


def _blocked(question: str) -> str | None:
    return "asks for credentials" if "password" in question.lower() else None


def _ask_model(client: Any, model: str, question: str, notes: list[str]) -> str:
    """One model turn with the weather tool; the tool runs under an explicit tool span, which
    takes the model's tool call id by itself."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You plan team events. Notes: " + "; ".join(notes)},
        {"role": "user", "content": question},
    ]
    reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    if message.tool_calls:
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = weather_tool(**json.loads(call.function.arguments or "{}"))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    return str(reply.choices[0].message.content)


async def _round(
    client: Any, model: str, question: str, booking: Booking, mcp_lookup: McpLookup | None, say: Say
) -> None:
    async with agentotel.agent("planner", agent_id="planner-1", description="Plans team events."):
        async with agentotel.guard("prompt-policy") as guard:
            reason = _blocked(question)
            if reason is not None:
                guard.block(reason)
            else:
                guard.allow()
        if reason is not None:
            say(f"planner: I can't help with that ({reason}).")
            return
        async with agentotel.context_assembly(budget_tokens=2000) as ctx:
            ctx.add_fragment("system", 40)
            ctx.add_fragment("history", 120)
            ctx.add_fragment("retrieval", 300)
        async with agentotel.plan("planner"):
            async with agentotel.step("research", type="tool"):
                notes = search_docs(question)
            async with agentotel.step("ask model", type="llm"):
                answer = _ask_model(client, model, question, notes)
            async with agentotel.step("book", type="action"):
                async with agentotel.approval("book_table", approver="demo-user") as approval:
                    approval.approve()
                try:
                    confirmation = booking.book("Le Bistro", 6)
                except TimeoutError:
                    confirmation = booking.book("Le Bistro", 6)  # one retry
            if mcp_lookup is not None:
                async with agentotel.step("venue lookup", type="mcp"):
                    venue = await mcp_lookup("Le Bistro")
                say(f"planner: venue info: {venue}")
        say(f"planner: {answer} — {confirmation}")


async def run_planner(client: Any, model: str, mcp_lookup: McpLookup | None = None, say: Say = print) -> None:
    """The planner's session: two rounds, the second one blocked by the guard."""
    booking = Booking()
    async with agentotel.session("demo-conversation", user_id="demo-user"):
        for question in QUESTIONS:
            say(f"user: {question}")
            await _round(client, model, question, booking, mcp_lookup, say)
