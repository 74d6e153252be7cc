"""Knowledge gaps, proposals and priorities: ids shared by the listeners, the views, the tests
and the shell."""

# `/doughnut <word>`
GAP_WORD = "gap"
GAPS_WORD = "gaps"
PROPOSE_WORD = "propose"
PRIORITIES_WORD = "priorities"

# Message shortcut (callback id, as in manifest.yml)
RAISE_GAP_SHORTCUT = "raise_gap"

# Buttons on a gap (value: the gap id)
VOTE_ACTION = "gap_vote"
ANSWER_ACTION = "gap_answer"  # I can answer: the lesson form, linked to the gap
CLOSE_ACTION = "gap_close"
# In the DM offering a lesson as a gap's answer (value: "<gap id>:<lesson id>")
LINK_ACTION = "gap_link"

# The gap modal (from the message shortcut) and the close modal
GAP_VIEW = "gap_raise"
QUESTION_BLOCK = "gap_question"
TAGS_BLOCK = "gap_tags"
COMMUNITY_BLOCK = "gap_community"
PRIORITY_BLOCK = "gap_priority"
CLOSE_VIEW = "gap_close"
CLOSE_STATUS_BLOCK = "gap_close_status"
NOTE_BLOCK = "gap_note"
# Each input's action id
FIELD_ACTION = "value"

# Proposals
PROPOSAL_VIEW = "proposal"
INSIGHT_BLOCK = "proposal_insight"
PROPOSAL_BLOCK = "proposal_text"
PROPOSAL_COMMUNITY_BLOCK = "proposal_community"
EVIDENCE_LESSONS_BLOCK = "proposal_lessons"
EVIDENCE_GAPS_BLOCK = "proposal_gaps"
PROPOSAL_PRIORITY_BLOCK = "proposal_priority"
# Buttons on a proposal (value: the proposal id)
ACKNOWLEDGE_ACTION = "proposal_acknowledge"
RESPOND_ACTION = "proposal_respond"
RESPOND_VIEW = "proposal_respond"
DECISION_BLOCK = "proposal_decision"
MESSAGE_BLOCK = "proposal_message"

# Priorities
PRIORITIES_VIEW = "priorities"
PRIORITIES_BLOCK = "priorities_text"
