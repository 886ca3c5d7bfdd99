"""Every user-facing text of the customer-call workflow, in English and Chinese."""
from shared.i18n import add

add({
    "call.tab": ("Customer call", "客户来电"),
    "call.intro": ("A recorded customer call goes in; out come who said what, how the customer felt turn by turn, "
                   "what they liked and complained about, a follow-up email that answers each complaint, and a "
                   "header image: five products working together. Edit any step's result and re-run from there.",
                   "输入一段客户来电录音，依次得到：谁说了什么、客户每段话的情绪、客户喜欢和抱怨的内容、逐条回应问题的跟进邮件，"
                   "以及邮件头图——五个产品协同工作。可以修改任一步的结果，并从该步重新运行。"),
})
