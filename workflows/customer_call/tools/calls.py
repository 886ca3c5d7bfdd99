"""Scripted customer calls with hand-written answer keys: the evaluation data of the customer-call workflow.

Written before any prompt was tuned, and not to be edited to suit a model's output. Each call is a
support or sales agent talking with a customer (45-75 s when spoken by make_audio.py); the agent opens
most calls, the customer opens three. The answer key lists what the customer complained about
(1-3 per call) and what they liked (0-2), each with several keywords: any one of them, lower-cased,
found in an extracted item (its issue + evidence) or in the follow-up email identifies that complaint
or like (score.py has the matching rules: English keywords match at the start of a word, so "nois"
finds noise, noisy and noisier, and words of three letters or fewer match whole words; Chinese ones
match anywhere). Keywords are chosen to avoid the words every follow-up email uses ("refund",
"email", 邮箱, 通知 alone...).

Splits: `example` (2: the demo calls bundled in assets/calls/), `tune` (2: the only ones to look at
while tuning prompts), `held_out` (6: the first round's report; read after it, so tuned on since) and
`held_out_2` and `held_out_3` (4 each, in calls_round2.py: written before the second and third rounds of
prompt work; the latest round is the one to report).

espeak-ng on Debian reads almost no Hanzi (it spells them as English), so each Chinese turn also
carries the pinyin (tone numbers, tone sandhi written out) that make_audio.py speaks.
"""
from __future__ import annotations

from workflows.customer_call.tools.calls_round2 import SECOND_ROUND, THIRD_ROUND
from workflows.customer_call.tools.script import A, C, LANGUAGES, SPLITS, Script, _en, _key, _zh  # noqa: F401


FIRST_ROUND: tuple[Script, ...] = (
    # ------------------------------------------------------------------ English
    _en("en_grinder_noise", "BrewCraft", "coffee grinder", "example", [
        (A, "Thank you for calling BrewCraft support, this is Daniel. How can I help you today?"),
        (C, "Hi Daniel. I bought your Burr Pro grinder about four months ago, and lately it has become really "
            "loud. It makes a rattling noise that it never made before."),
        (A, "I'm sorry to hear that. Is the noise there every time you grind, or only with certain beans?"),
        (C, "Every time. And the grind is not even any more. I get big chunks mixed with fine powder, so my "
            "espresso runs far too fast."),
        (A, "That sounds like the burrs may have shifted. Have you cleaned the grinder recently?"),
        (C, "Yes, last week, and it did not help. Which is a shame, because the coffee used to taste amazing, "
            "and I love how compact it is on my kitchen counter."),
        (A, "Thank you, that's good to hear. The grinder is still under warranty, so we can send you a new "
            "burr set free of charge."),
        (C, "A new burr set would be great, as long as it fixes the noise."),
        (A, "I'll send it today with instructions. If it is still loud afterwards, we will replace the whole "
            "grinder."),
        (C, "Okay, thank you. Please send me the details by email."),
    ], complaints=[
        _key("grinder got loud", "loud", "nois", "rattl", "volume"),
        _key("uneven grind", "uneven", "not even", "inconsisten", "chunk", "coarse", "grind size",
             "espresso runs", "too fast"),
    ], liked=[
        _key("coffee tastes great", "taste", "tasty", "flavo", "delicious", "amazing coffee"),
        _key("compact design", "compact", "small", "counter", "footprint", "space", "design"),
    ]),
    _en("en_sofa_delivery", "Nordhaus Furniture", "sofa delivery", "tune", [
        (C, "Hello, I'm calling about my order, a three seat sofa. It was supposed to arrive last Tuesday, "
            "and it still isn't here."),
        (A, "I'm sorry about that. This is Priya from Nordhaus Furniture. Could you give me the order "
            "number, please?"),
        (C, "It's N H four five two seven. I took a day off work to wait for it, and nobody came."),
        (A, "I see it here. The delivery was moved because the truck was full, and I'm afraid the message "
            "to you was never sent."),
        (C, "That's really frustrating. The tracking page still says out for delivery, a week later, and I "
            "never got a single message."),
        (A, "You're right, the tracking was not updated. I apologise. The new date is this Friday morning, "
            "between eight and twelve."),
        (C, "Friday works. To be fair, I sat on this sofa in your store and it was the most comfortable one "
            "I tried. That's why I waited."),
        (A, "I'm glad you like it. Because of the delay, I'll refund the delivery fee of forty nine "
            "dollars."),
        (C, "Thank you, that helps. Please make sure the driver calls me first."),
        (A, "I've added a note for the driver. You'll get a confirmation email today."),
    ], complaints=[
        _key("delivery late", "delay", "late deliver", "delivery late", "delivered late", "arrived late",
             "was late", "is late", "too late",
             "not arrive", "didn't arrive", "never arrived", "hasn't arrived", "still isn't here",
             "still not here", "nobody came", "no one came", "missed deliver", "day off"),
        _key("not told / tracking not updated", "tracking", "not updated", "never got a", "no message",
             "never told", "not told", "not informed", "no notice", "no notification", "communicat",
             "never sent", "message was"),
    ], liked=[
        _key("comfortable sofa", "comfort"),
    ]),
    _en("en_streaming_double_charge", "StreamBox", "subscription billing", "held_out", [
        (A, "Good afternoon, StreamBox billing, my name is Marcus. How can I help?"),
        (C, "Hi. I've been charged twice for my subscription this month. Two payments of fourteen ninety "
            "nine, on the same day."),
        (A, "I'm sorry about that. Can I have the email address on the account?"),
        (C, "It's jenny dot lee at example dot com. And honestly, I tried to call you three times this "
            "week. I waited on hold for over forty minutes each time."),
        (A, "I apologise for the wait, we've had very high call volumes. I can see the two charges here. "
            "The second one was a system error."),
        (C, "So will I get the money back?"),
        (A, "Yes. I've issued a refund for the duplicate payment. It will be back on your card within five "
            "working days."),
        (C, "Okay. I do like the service itself. The new documentary series are great, and the app works "
            "really well on my TV."),
        (A, "Thank you, I'll pass that on. Is there anything else?"),
        (C, "Just make sure it doesn't happen again next month."),
        (A, "I've flagged your account, so the billing team will check it. You'll get an email confirming "
            "the refund."),
    ], complaints=[
        _key("charged twice", "charged twice", "twice", "double", "duplicate", "two charges",
             "two payments", "overcharg", "charged two", "second charge", "second payment"),
        _key("long wait on hold", "hold", "waited", "waiting", "wait time", "forty minutes", "40 minutes",
             "get through", "call volume", "three times"),
    ], liked=[
        _key("the shows", "documentar", "series", "content", "shows", "programm", "catalog"),
        _key("the TV app", "app", "tv", "television", "smart tv"),
    ]),
    _en("en_hotel_stay", "Harbour Bay Hotel", "hotel stay", "held_out", [
        (C, "Hi, I stayed at your hotel last weekend, in room four twelve, and I wanted to give some "
            "feedback before I write a review."),
        (A, "Thank you for calling. This is Sophie from guest relations at the Harbour Bay Hotel. Please go "
            "ahead."),
        (C, "The air conditioning in our room didn't work. It was thirty degrees outside, and the room was "
            "so hot that we couldn't sleep."),
        (A, "I'm very sorry. Did you report it to the front desk?"),
        (C, "Twice. They said an engineer would come, but nobody came until the last morning. And at check "
            "in, we waited almost an hour because the room wasn't ready."),
        (A, "That's not the standard we aim for. I'll share this with our maintenance and front office "
            "managers."),
        (C, "Thanks. I do want to say the staff at breakfast were lovely, and the breakfast itself was "
            "excellent. The sea view from the room was beautiful too."),
        (A, "I'm glad to hear that. As an apology, I'd like to refund one night of your stay."),
        (C, "That's fair, thank you."),
        (A, "You'll receive a confirmation by email within the hour."),
    ], complaints=[
        _key("air conditioning broken", "air condition", "air-condition", "aircon", "cooling", "too hot",
             "so hot", "very hot", "heat", "couldn't sleep", "could not sleep", "engineer", "thirty degrees"),
        _key("long wait at check-in", "check in", "checkin", "room wasn't ready", "room was not ready",
             "not ready", "almost an hour", "waited almost", "wait at"),
    ], liked=[
        _key("breakfast and its staff", "breakfast", "staff", "lovely"),
        _key("the view", "view", "scenery", "sea"),
    ]),
    _en("en_laptop_repair", "Voltra Computers", "laptop repair", "held_out", [
        (A, "Voltra Computers repair centre, this is Ahmed speaking. How can I help?"),
        (C, "Hello. I sent my laptop in for a battery replacement. It was supposed to take five days, and "
            "it took three weeks."),
        (A, "I'm sorry about that. Let me pull up the case. Can I have your case number?"),
        (C, "V R eight eight one zero. And the worst part is, it still drains really fast. It goes from "
            "full to empty in about two hours, just like before."),
        (A, "I see the new battery was fitted. It may be a software setting, or a faulty part. Have you "
            "updated the system?"),
        (C, "Yes, everything is up to date. I will say, the technician who called me was very clear and "
            "patient, and the laptop came back clean and well packed."),
        (A, "Thank you. Given the battery problem, we'll collect the laptop tomorrow and run a full "
            "diagnostic, at no cost."),
        (C, "How long will that take? I need it for work."),
        (A, "We'll lend you a replacement laptop while yours is with us, and we'll aim for three working "
            "days."),
        (C, "Okay, that would work. Please email me the pickup time."),
    ], complaints=[
        _key("repair took three weeks", "three weeks", "3 weeks", "took too long", "too long", "slow",
             "delay", "turnaround", "five days", "5 days", "took three"),
        _key("battery still drains", "drain", "battery life", "two hours", "2 hours", "empty",
             "runs out", "not fixed", "still the same", "same problem", "just like before", "battery problem",
             "battery issue", "battery still"),
    ], liked=[
        _key("clear, patient technician", "technician", "clear", "patient", "explain"),
        _key("returned clean and well packed", "pack", "clean", "condition"),
    ]),
    # ------------------------------------------------------------------ Chinese (Mandarin)
    _zh("zh_phone_plan", "星联通信", "手机套餐", "example", [
        (A, "您好，这里是星联通信客服，我是小王，请问有什么可以帮您？",
         "nin2 hao3, zhe4 li3 shi4 xing1 lian2 tong1 xin4 ke4 fu2, wo3 shi4 xiao3 wang2, qing3 wen4 you3 "
         "shen2 me ke2 yi3 bang1 nin2?"),
        (C, "你好。我这个月的话费突然多了八十块，说是流量超了，可是我根本没用那么多流量。",
         "ni2 hao3. wo3 zhe4 ge4 yue4 de hua4 fei4 tu1 ran2 duo1 le ba1 shi2 kuai4, shuo1 shi4 liu2 liang4 "
         "chao1 le, ke3 shi4 wo3 gen1 ben3 mei2 yong4 na4 me duo1 liu2 liang4."),
        (A, "非常抱歉给您带来困扰。请问您的手机号码是多少？",
         "fei1 chang2 bao4 qian4 gei3 nin2 dai4 lai2 kun4 rao3. qing3 wen4 nin2 de shou3 ji1 hao4 ma3 shi4 "
         "duo1 shao3?"),
        (C, "一三八，一二三四，五六七八。还有，我家里的信号特别差，在客厅打电话经常断线。",
         "yao1 san1 ba1, yao1 er4 san1 si4, wu3 liu4 qi1 ba1. hai2 you3, wo3 jia1 li3 de xin4 hao4 te4 bie2 "
         "cha4, zai4 ke4 ting1 da3 dian4 hua4 jing1 chang2 duan4 xian4."),
        (A, "我查到了，您这个月的流量超出了套餐的额度，所以产生了额外的费用。",
         "wo3 cha2 dao4 le, nin2 zhe4 ge4 yue4 de liu2 liang4 chao1 chu1 le tao4 can1 de e2 du4, suo2 yi3 "
         "chan3 sheng1 le e2 wai4 de fei4 yong4."),
        (C, "可能是手机在后台自动更新了。不过说实话，你们的月租挺便宜的，我用了三年了，一直觉得很划算。",
         "ke3 neng2 shi4 shou3 ji1 zai4 hou4 tai2 zi4 dong4 geng1 xin1 le. bu2 guo4 shuo1 shi2 hua4, ni3 "
         "men de yue4 zu1 ting3 pian2 yi2 de, wo3 yong4 le san1 nian2 le, yi4 zhi2 jue2 de hen3 hua2 suan4."),
        (A, "谢谢您的支持。这次的超额费用我帮您减免一半，另外给您升级到流量更多的套餐，价格不变。",
         "xie4 xie4 nin2 de zhi1 chi2. zhe4 ci4 de chao1 e2 fei4 yong4 wo3 bang1 nin2 jian3 mian3 yi2 ban4, "
         "ling4 wai4 gei3 nin2 sheng1 ji2 dao4 liu2 liang4 geng4 duo1 de tao4 can1, jia4 ge2 bu2 bian4."),
        (C, "那信号的问题呢？", "na4 xin4 hao4 de wen4 ti2 ne?"),
        (A, "我会提交给网络部门，三天内安排工程师检测您家附近的信号。",
         "wo3 hui4 ti2 jiao1 gei3 wang3 luo4 bu4 men2, san1 tian1 nei4 an1 pai2 gong1 cheng2 shi1 jian3 ce4 "
         "nin2 jia1 fu4 jin4 de xin4 hao4."),
        (C, "好的，谢谢。处理结果请发邮件给我。",
         "hao3 de, xie4 xie4. chu3 li3 jie2 guo3 qing3 fa1 you2 jian4 gei3 wo3."),
    ], complaints=[
        _key("流量超额多收费", "流量", "超额", "超了", "超出", "话费", "多收", "多扣", "多了八十", "八十块",
             "额外"),
        _key("家里信号差", "信号", "断线", "掉线", "通话中断"),
    ], liked=[
        _key("月租便宜", "便宜", "划算", "月租", "实惠", "性价比"),
    ]),
    _zh("zh_takeout_cold", "美味送", "外卖配送", "tune", [
        (C, "喂，你好，我刚才在你们平台点的外卖到了，但是饭菜全都凉了，送了一个多小时。",
         "wei2, ni2 hao3, wo3 gang1 cai2 zai4 ni3 men ping2 tai2 dian3 de wai4 mai4 dao4 le, dan4 shi4 fan4 "
         "cai4 quan2 dou1 liang2 le, song4 le yi2 ge4 duo1 xiao3 shi2."),
        (A, "您好，这里是美味送客服，我是小李。真的很抱歉，请问您的订单号是多少？",
         "nin2 hao3, zhe4 li3 shi4 mei3 wei4 song4 ke4 fu2, wo3 shi4 xiao2 li3. zhen1 de hen3 bao4 qian4, "
         "qing3 wen4 nin2 de ding4 dan1 hao4 shi4 duo1 shao3?"),
        (C, "订单号是五五三二一。而且我点了两杯奶茶，结果只送来一杯，少了一杯。",
         "ding4 dan1 hao4 shi4 wu3 wu3 san1 er4 yao1. er2 qie3 wo3 dian3 le liang3 bei1 nai3 cha2, jie2 guo3 "
         "zhi3 song4 lai2 yi4 bei1, shao3 le yi4 bei1."),
        (A, "我看到了，骑手在路上遇到了暴雨，所以送晚了。奶茶的事情是商家漏装了。",
         "wo3 kan4 dao4 le, qi2 shou3 zai4 lu4 shang4 yu4 dao4 le bao4 yu3, suo2 yi3 song4 wan3 le. nai3 "
         "cha2 de shi4 qing2 shi4 shang1 jia1 lou4 zhuang1 le."),
        (C, "我理解下雨，但是应该提前告诉我一声。其实这家店的红烧肉味道很好，我经常点，就是这次太让人失望了。",
         "wo3 li3 jie3 xia4 yu3, dan4 shi4 ying1 gai1 ti2 qian2 gao4 su4 wo3 yi4 sheng1. qi2 shi2 zhe4 jia1 "
         "dian4 de hong2 shao1 rou4 wei4 dao4 hen3 hao3, wo3 jing1 chang2 dian3, jiu4 shi4 zhe4 ci4 tai4 "
         "rang4 ren2 shi1 wang4 le."),
        (A, "明白。少送的奶茶我们全额退款，另外再给您一张二十元的优惠券，作为补偿。",
         "ming2 bai. shao3 song4 de nai3 cha2 wo3 men quan2 e2 tui4 kuan3, ling4 wai4 zai4 gei3 nin2 yi4 "
         "zhang1 er4 shi2 yuan2 de you1 hui4 quan4, zuo4 wei2 bu3 chang2."),
        (C, "好吧。那以后如果送晚了，能不能先发个消息给我？",
         "hao3 ba. na4 yi3 hou4 ru2 guo3 song4 wan3 le, neng2 bu4 neng2 xian1 fa1 ge4 xiao1 xi gei3 wo3?"),
        (A, "可以的，我会把您的建议反馈给配送团队。退款和优惠券的信息会发到您的邮箱。",
         "ke2 yi3 de, wo3 hui4 ba3 nin2 de jian4 yi4 fan3 kui4 gei3 pei4 song4 tuan2 dui4. tui4 kuan3 he2 "
         "you1 hui4 quan4 de xin4 xi1 hui4 fa1 dao4 nin2 de you2 xiang1."),
        (C, "好的，谢谢。", "hao3 de, xie4 xie4."),
    ], complaints=[
        _key("饭菜凉了、送得慢", "凉", "冷", "不热", "一个多小时", "送晚", "送得慢", "太慢", "超时", "延迟",
             "晚了"),
        _key("少送了一杯奶茶", "奶茶", "少了一杯", "少送", "漏装", "漏送", "缺", "只送来一杯"),
        _key("送晚了没有提前说", "提前告诉", "告诉我一声", "提前通知", "没有通知", "没通知", "提前说",
             "发个消息", "提醒"),
    ], liked=[
        _key("红烧肉好吃", "红烧肉", "味道", "好吃", "口味"),
    ]),
    _zh("zh_washer_leak", "清风电器", "洗衣机售后", "held_out", [
        (A, "您好，清风电器售后服务，我是客服小张，请问有什么可以帮您？",
         "nin2 hao3, qing1 feng1 dian4 qi4 shou4 hou4 fu2 wu4, wo3 shi4 ke4 fu2 xiao3 zhang1, qing3 wen4 "
         "you3 shen2 me ke2 yi3 bang1 nin2?"),
        (C, "你好，我上个月买的滚筒洗衣机，现在每次洗衣服，底下都会漏水，地板都湿了。",
         "ni2 hao3, wo3 shang4 ge4 yue4 mai3 de gun2 tong3 xi3 yi1 ji1, xian4 zai4 mei3 ci4 xi3 yi1 fu, di3 "
         "xia4 dou1 hui4 lou4 shui3, di4 ban3 dou1 shi1 le."),
        (A, "很抱歉。请问漏水是从前面的门那里，还是从机器下面？",
         "hen3 bao4 qian4. qing3 wen4 lou4 shui3 shi4 cong2 qian2 mian4 de men2 na4 li3, hai2 shi4 cong2 "
         "ji1 qi4 xia4 mian4?"),
        (C, "好像是从下面。还有，当初安装的师傅约好上午十点来，结果下午三点才到，我请了一天假在家等。",
         "hao3 xiang4 shi4 cong2 xia4 mian4. hai2 you3, dang1 chu1 an1 zhuang1 de shi1 fu4 yue1 hao3 shang4 "
         "wu3 shi2 dian3 lai2, jie2 guo3 xia4 wu3 san1 dian3 cai2 dao4, wo3 qing3 le yi4 tian1 jia4 zai4 jia1 "
         "deng3."),
        (A, "这个情况我记录下来了，会反馈给安装部门。漏水可能是排水管没有接好。",
         "zhe4 ge4 qing2 kuang4 wo3 ji4 lu4 xia4 lai2 le, hui4 fan3 kui4 gei3 an1 zhuang1 bu4 men2. lou4 "
         "shui3 ke3 neng2 shi4 pai2 shui3 guan3 mei2 you3 jie1 hao3."),
        (C, "希望是这样。说实话，这台洗衣机洗得很干净，声音也很小，我本来挺满意的。",
         "xi1 wang4 shi4 zhe4 yang4. shuo1 shi2 hua4, zhe4 tai2 xi3 yi1 ji1 xi3 de hen3 gan1 jing4, sheng1 "
         "yin1 ye2 hen3 xiao3, wo3 ben3 lai2 ting3 man3 yi4 de."),
        (A, "谢谢您的认可。我们明天上午安排维修师傅上门检查，免费处理。",
         "xie4 xie4 nin2 de ren4 ke3. wo3 men ming2 tian1 shang4 wu3 an1 pai2 wei2 xiu1 shi1 fu4 shang4 men2 "
         "jian3 cha2, mian3 fei4 chu3 li3."),
        (C, "这次师傅能准时吗？", "zhe4 ci4 shi1 fu4 neng2 zhun3 shi2 ma?"),
        (A, "我会特别备注，师傅出发前会先给您打电话。预约信息稍后发到您的邮箱。",
         "wo3 hui4 te4 bie2 bei4 zhu4, shi1 fu4 chu1 fa1 qian2 hui4 xian1 gei3 nin2 da3 dian4 hua4. yu4 yue1 "
         "xin4 xi1 shao1 hou4 fa1 dao4 nin2 de you2 xiang1."),
        (C, "好，谢谢你。", "hao3, xie4 xie4 ni3."),
    ], complaints=[
        _key("洗衣机漏水", "漏水", "漏", "湿", "渗水", "排水"),
        _key("安装师傅迟到", "迟到", "晚到", "来晚", "三点才到", "下午三点", "准时", "守时", "等了",
             "请了一天假", "请假", "约好"),
    ], liked=[
        _key("洗得干净、声音小", "干净", "安静", "声音小", "声音也很小", "噪音小", "满意"),
    ]),
    _zh("zh_gym_renewal", "动力健身", "健身房会员", "held_out", [
        (A, "您好，动力健身会员服务，我是小陈，请问有什么需要帮助的？",
         "nin2 hao3, dong4 li4 jian4 shen1 hui4 yuan2 fu2 wu4, wo3 shi4 xiao3 chen2, qing3 wen4 you3 shen2 "
         "me xu1 yao4 bang1 zhu4 de?"),
        (C, "你好，我的年卡上个月到期了，我没有续费，可是你们直接从我的银行卡扣了三千二百块。",
         "ni2 hao3, wo3 de nian2 ka3 shang4 ge4 yue4 dao4 qi1 le, wo3 mei2 you3 xu4 fei4, ke3 shi4 ni3 men "
         "zhi2 jie1 cong2 wo3 de yin2 hang2 ka3 kou4 le san1 qian1 er4 bai3 kuai4."),
        (A, "我查一下。您办卡的时候开通了自动续费，所以系统到期自动扣款了。",
         "wo3 cha2 yi2 xia4. nin2 ban4 ka3 de shi2 hou4 kai1 tong1 le zi4 dong4 xu4 fei4, suo2 yi3 xi4 "
         "tong3 dao4 qi1 zi4 dong4 kou4 kuan3 le."),
        (C, "但是扣款之前没有任何提醒，短信和电话都没有。我觉得这样不合理。",
         "dan4 shi4 kou4 kuan3 zhi1 qian2 mei2 you3 ren4 he2 ti2 xing3, duan3 xin4 he2 dian4 hua4 dou1 mei2 "
         "you3. wo3 jue2 de zhe4 yang4 bu4 he2 li3."),
        (A, "您说得对，我们应该提前通知您。这笔费用我可以帮您申请全额退款。",
         "nin2 shuo1 de dui4, wo3 men ying1 gai1 ti2 qian2 tong1 zhi1 nin2. zhe4 bi3 fei4 yong4 wo3 ke2 yi3 "
         "bang1 nin2 shen1 qing3 quan2 e2 tui4 kuan3."),
        (C, "好的。另外，更衣室的储物柜坏了好几个，门锁不上，我的东西只能放在外面。",
         "hao3 de. ling4 wai4, geng1 yi1 shi4 de chu3 wu4 gui4 huai4 le hao2 ji3 ge4, men2 suo3 bu2 shang4, "
         "wo3 de dong1 xi zhi3 neng2 fang4 zai4 wai4 mian4."),
        (A, "非常抱歉，我会马上通知门店修理储物柜。",
         "fei1 chang2 bao4 qian4, wo3 hui4 ma3 shang4 tong1 zhi1 men2 dian4 xiu1 li3 chu3 wu4 gui4."),
        (C, "不过你们的王教练很专业，课程安排得也很好，所以我其实还想继续练。",
         "bu2 guo4 ni3 men de wang2 jiao4 lian4 hen3 zhuan1 ye4, ke4 cheng2 an1 pai2 de ye3 hen3 hao3, suo2 "
         "yi3 wo3 qi2 shi2 hai2 xiang3 ji4 xu4 lian4."),
        (A, "谢谢您的肯定。退款到账以后，您可以按月办卡，不会再自动续费。详细信息我发到您的邮箱。",
         "xie4 xie4 nin2 de ken3 ding4. tui4 kuan3 dao4 zhang4 yi3 hou4, nin2 ke2 yi3 an4 yue4 ban4 ka3, bu2 "
         "hui4 zai4 zi4 dong4 xu4 fei4. xiang2 xi4 xin4 xi1 wo3 fa1 dao4 nin2 de you2 xiang1."),
    ], complaints=[
        _key("没提醒就自动续费扣款", "自动续费", "续费", "扣款", "扣了", "扣费", "扣钱", "提醒", "三千二",
             "年卡"),
        _key("储物柜坏了", "储物柜", "柜子", "柜", "锁不上", "门锁", "更衣室"),
    ], liked=[
        _key("教练专业、课程好", "教练", "专业", "课程", "课"),
    ]),
    _zh("zh_flight_delay", "蓝天航空", "航班延误与行李", "held_out", [
        (A, "您好，蓝天航空客户服务中心，我是小刘，请问有什么可以帮您？",
         "nin2 hao3, lan2 tian1 hang2 kong1 ke4 hu4 fu2 wu4 zhong1 xin1, wo3 shi4 xiao2 liu2, qing3 wen4 "
         "you3 shen2 me ke2 yi3 bang1 nin2?"),
        (C, "你好，我上周五坐你们从上海飞成都的航班，延误了三个多小时，机场广播一直没有说原因。",
         "ni2 hao3, wo3 shang4 zhou1 wu3 zuo4 ni3 men cong2 shang4 hai3 fei1 cheng2 du1 de hang2 ban1, yan2 "
         "wu4 le san1 ge4 duo1 xiao3 shi2, ji1 chang3 guang3 bo1 yi4 zhi2 mei2 you3 shuo1 yuan2 yin1."),
        (A, "非常抱歉。那天成都有雷雨天气，很多航班都延误了。请问您的航班号是多少？",
         "fei1 chang2 bao4 qian4. na4 tian1 cheng2 du1 you3 lei2 yu3 tian1 qi4, hen3 duo1 hang2 ban1 dou1 "
         "yan2 wu4 le. qing3 wen4 nin2 de hang2 ban1 hao4 shi4 duo1 shao3?"),
        (C, "蓝天八二六。更糟糕的是，到了成都以后，我的行李箱有一个轮子摔坏了，现在没法拉。",
         "lan2 tian1 ba1 er4 liu4. geng4 zao1 gao1 de shi4, dao4 le cheng2 du1 yi3 hou4, wo3 de xing2 li "
         "xiang1 you3 yi2 ge4 lun2 zi shuai1 huai4 le, xian4 zai4 mei2 fa3 la1."),
        (A, "行李损坏您可以申请赔偿，我帮您登记一下。",
         "xing2 li sun3 huai4 nin2 ke2 yi3 shen1 qing3 pei2 chang2, wo3 bang1 nin2 deng1 ji4 yi2 xia4."),
        (C, "好的。不过我要说，飞机上的空乘服务特别好，她们很耐心，还给延误的乘客多送了一份点心。",
         "hao3 de. bu2 guo4 wo3 yao4 shuo1, fei1 ji1 shang4 de kong1 cheng2 fu2 wu4 "
         "te4 bie2 hao3, ta1 men hen3 nai4 xin1, hai2 gei3 yan2 wu4 de cheng2 ke4 duo1 song4 le yi2 fen4 "
         "dian2 xin1."),
        (A, "谢谢您的表扬，我会转达给机组。关于延误，我们会给您的会员账户补偿两千积分。",
         "xie4 xie4 nin2 de biao3 yang2, wo3 hui4 zhuan3 da2 gei3 ji1 zu3. guan1 yu2 yan2 wu4, wo3 men hui4 "
         "gei3 nin2 de hui4 yuan2 zhang4 hu4 bu3 chang2 liang3 qian1 ji1 fen1."),
        (C, "好的。箱子的赔偿大概多久能处理好？",
         "hao3 de. xiang1 zi de pei2 chang2 da4 gai4 duo1 jiu3 neng2 chu3 li3 hao3?"),
        (A, "一般七个工作日以内。赔偿申请的编号我会发到您的邮箱。",
         "yi4 ban1 qi1 ge4 gong1 zuo4 ri4 yi3 nei4. pei2 chang2 shen1 qing3 de bian1 hao4 wo3 hui4 fa1 dao4 "
         "nin2 de you2 xiang1."),
        (C, "好，谢谢。", "hao3, xie4 xie4."),
    ], complaints=[
        _key("航班延误三个多小时", "延误", "晚点", "三个多小时", "推迟", "延迟", "误点"),
        _key("没有说明延误原因", "原因", "广播", "没有说", "没有解释", "没有说明", "没有通知", "不告诉"),
        _key("行李箱轮子摔坏", "行李", "箱子", "轮子", "摔坏", "损坏", "坏了"),
    ], liked=[
        _key("空乘服务好", "空乘", "乘务", "耐心", "点心", "服务特别好", "机组"),
    ]),
)

CALLS: tuple[Script, ...] = FIRST_ROUND + SECOND_ROUND + THIRD_ROUND
BY_ID = {c.id: c for c in CALLS}


def select(split: str = "held_out") -> list[Script]:
    """The calls of one split ("example", "tune", "held_out") or "all", in CALLS order."""
    if split == "all":
        return list(CALLS)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {SPLITS + ('all',)}")
    return [c for c in CALLS if c.split == split]


def examples() -> list[Script]:
    return select("example")
