"""Later rounds of scripted calls, each written with its answer keys before the prompt work that the
round before it prompted: held_out_2 (2026-12-07, after the first round's held-out calls had been read)
and held_out_3 (2026-12-07, after held_out_2's results had been read; the calls to report now). The rules of calls.py apply (keywords avoid the
words every follow-up email uses; each complaint's keywords occur in what the customer says)."""
from __future__ import annotations

from workflows.customer_call.tools.script import A, C, Script, _en, _key, _zh

SECOND_ROUND: tuple[Script, ...] = (
    # ------------------------------------------------------------------ English
    _en("en_grocery_missing", "GreenBasket", "grocery delivery", "held_out_2", [
        (A, "Good afternoon, GreenBasket customer care, my name is Priya. How can I help?"),
        (C, "Hi Priya. My grocery order came this morning and three items were missing: the eggs, the butter "
            "and a bag of rice. I paid for all of them."),
        (A, "I'm really sorry about that. Can I have the order number, please?"),
        (C, "It's G B four four one seven. And another thing, the driver left the bags outside in the rain "
            "instead of ringing the bell, so the paper bags were soaked through."),
        (A, "That should not have happened. I'll pass that on to our delivery team today."),
        (C, "Thanks. To be fair, the fruit and vegetables were really fresh, the strawberries were lovely. That's "
            "why I keep ordering from you."),
        (A, "I'm glad to hear that. I've credited the three missing items to your account, and I'm adding a "
            "free delivery voucher for your next order."),
        (C, "Okay, that's fair. Will the credit show up straight away?"),
        (A, "Yes, within the hour. I'll send you a confirmation email with the details."),
        (C, "Great, thank you Priya."),
    ], complaints=[
        _key("items missing from the order", "missing", "eggs", "butter", "rice", "three items", "left out"),
        _key("bags left out in the rain", "rain", "soaked", "wet", "bell", "left the bags", "left outside",
             "outside"),
    ], liked=[
        _key("fresh fruit and vegetables", "fresh", "strawberr", "fruit", "vegetable"),
    ]),
    _en("en_car_rental", "DriveAway", "car rental", "held_out_2", [
        (C, "Hello, I rented a car from your airport branch last week and I want to complain about the bill."),
        (A, "Hello, thanks for calling DriveAway, this is Marcus speaking. I'm sorry to hear that. What happened "
            "with the bill?"),
        (C, "At the desk I said no to the extra insurance, very clearly, but I was charged sixty dollars for it "
            "anyway. It's on my card statement."),
        (A, "Let me look at the contract. I can see the insurance was added, and I don't see your signature "
            "next to it."),
        (C, "Exactly. And the car itself was dirty inside, there were crumbs all over the seats and the ashtray "
            "was full. It smelled of smoke for the whole trip."),
        (A, "I apologise, that is not our standard. I'll report it to the branch manager."),
        (C, "The pick up was quick, I'll give you that. I was out of the airport in ten minutes."),
        (A, "Thank you. I'm refunding the sixty dollars to your card now, and I'm adding a twenty percent "
            "discount to your next rental."),
        (C, "Alright. How long will the refund take?"),
        (A, "Three to five working days. You'll get an email as soon as it is processed."),
    ], complaints=[
        _key("charged for insurance that was declined", "insurance", "sixty dollars", "60", "extra charge",
             "charged for", "declined", "said no"),
        _key("car dirty inside and smelled of smoke", "dirty", "crumbs", "smok", "ashtray", "clean"),
    ], liked=[
        _key("quick pick-up", "quick", "pick up", "pick-up", "pickup", "ten minutes", "fast"),
    ]),
    # ------------------------------------------------------------------ Chinese
    _zh("zh_online_course", "学而优", "在线课程", "held_out_2", [
        (A, "您好，学而优在线课堂客服，我是小陈，请问有什么可以帮您？",
         "nin2 hao3, xue2 er2 you1 zai4 xian4 ke4 tang2 ke4 fu2, wo3 shi4 xiao3 chen2, qing3 wen4 you3 shen2 me ke3 yi3 bang1 nin2?"),
        (C, "你好，我报了你们的英语口语课，可是每次上直播课，视频都卡得厉害，老师说话断断续续的。",
         "ni3 hao3, wo3 bao4 le ni3 men de ying1 yu3 kou3 yu3 ke4, ke3 shi4 mei3 ci4 shang4 zhi2 bo1 ke4, shi4 pin2 dou1 ka3 de li4 hai4, lao3 shi1 shuo1 hua4 duan4 duan4 xu4 xu4 de."),
        (A, "非常抱歉。请问您是用手机还是电脑上课？网络是无线的吗？",
         "fei1 chang2 bao4 qian4. qing3 wen4 nin2 shi4 yong4 shou3 ji1 hai2 shi4 dian4 nao3 shang4 ke4? wang3 luo4 shi4 wu2 xian4 de ma?"),
        (C, "用电脑，家里是光纤，看别的视频都很流畅，就你们的直播卡。",
         "yong4 dian4 nao3, jia1 li3 shi4 guang1 xian1, kan4 bie2 de shi4 pin2 dou1 hen3 liu2 chang4, jiu4 ni3 men de zhi2 bo1 ka3."),
        (A, "明白了，可能是我们服务器的问题，我会提交给技术部门检查。",
         "ming2 bai2 le, ke3 neng2 shi4 wo3 men fu2 wu4 qi4 de wen4 ti2, wo3 hui4 ti2 jiao1 gei3 ji4 shu4 bu4 men2 jian3 cha2."),
        (C, "还有，上个月我申请退一门没上过的课，说好七天到账，现在过了一个月还没退回来。",
         "hai2 you3, shang4 ge4 yue4 wo3 shen1 qing3 tui4 yi1 men2 mei2 shang4 guo4 de ke4, shuo1 hao3 qi1 tian1 dao4 zhang4, xian4 zai4 guo4 le yi2 ge4 yue4 hai2 mei2 tui4 hui2 lai2."),
        (A, "我查一下。您的退款申请卡在了财务审核，我马上帮您加急处理。",
         "wo3 cha2 yi1 xia4. nin2 de tui4 kuan3 shen1 qing3 ka3 zai4 le cai2 wu4 shen3 he2, wo3 ma3 shang4 bang1 nin2 jia1 ji2 chu3 li3."),
        (C, "好的。不过说实话，王老师讲得特别好，发音很标准，我就是冲着她报的名。",
         "hao3 de. bu4 guo4 shuo1 shi2 hua4, wang2 lao3 shi1 jiang3 de te4 bie2 hao3, fa1 yin1 hen3 biao1 zhun3, wo3 jiu4 shi4 chong1 zhe ta1 bao4 de ming2."),
        (A, "谢谢您的认可，我会转告王老师。退款三个工作日内到账，处理结果会发短信告诉您。",
         "xie4 xie4 nin2 de ren4 ke3, wo3 hui4 zhuan3 gao4 wang2 lao3 shi1. tui4 kuan3 san1 ge4 gong1 zuo4 ri4 nei4 dao4 zhang4, chu3 li3 jie2 guo3 hui4 fa1 duan3 xin4 gao4 su4 nin2."),
        (C, "好，谢谢你。",
         "hao3, xie4 xie4 ni3."),
    ], complaints=[
        _key("直播课视频卡顿", "卡", "卡顿", "断断续续", "不流畅", "直播", "视频"),
        _key("退款一个月还没到账", "退一门", "没退", "退款还没", "到账", "一个月", "七天", "退回来"),
    ], liked=[
        _key("王老师讲得好", "老师", "发音", "讲得"),
    ]),
    _zh("zh_desk_parts", "木之家", "家具配送安装", "held_out_2", [
        (C, "喂，你好，我买的书桌今天送到了，但是包装里少了四颗螺丝，根本装不起来。",
         "wei4, ni3 hao3, wo3 mai3 de shu1 zhuo1 jin1 tian1 song4 dao4 le, dan4 shi4 bao1 zhuang1 li3 shao3 le si4 ke1 luo2 si1, gen1 ben3 zhuang1 bu4 qi3 lai2."),
        (A, "您好，这里是木之家客服，我是小刘。真抱歉给您添麻烦了，请问订单号是多少？",
         "nin2 hao3, zhe4 li3 shi4 mu4 zhi1 jia1 ke4 fu2, wo3 shi4 xiao3 liu2. zhen1 bao4 qian4 gei3 nin2 tian1 ma2 fan2 le, qing3 wen4 ding4 dan1 hao4 shi4 duo1 shao3?"),
        (C, "订单号是八八二零六。而且安装师傅搬东西的时候，把我家走廊的墙蹭掉了一大块漆。",
         "ding4 dan1 hao4 shi4 ba1 ba1 er4 ling2 liu4. er2 qie3 an1 zhuang1 shi1 fu4 ban1 dong1 xi1 de shi2 hou4, ba3 wo3 jia1 zou3 lang2 de qiang2 ceng4 diao4 le yi1 da4 kuai4 qi1."),
        (A, "这个太不应该了。墙面的损失我们会负责，可以请您拍张照片发给我们吗？",
         "zhe4 ge tai4 bu4 ying1 gai1 le. qiang2 mian4 de sun3 shi1 wo3 men hui4 fu4 ze2, ke3 yi3 qing3 nin2 pai1 zhang1 zhao4 pian4 fa1 gei3 wo3 men ma?"),
        (C, "可以，我等会儿发。桌面的木头倒是挺好的，很结实，颜色也跟图片一样。",
         "ke3 yi3, wo3 deng3 hui4 er fa1. zhuo1 mian4 de mu4 tou dao3 shi4 ting3 hao3 de, hen3 jie1 shi2, yan2 se4 ye3 gen1 tu2 pian4 yi1 yang4."),
        (A, "谢谢您。缺的螺丝我们明天用快递寄给您，师傅后天上门把桌子装好，墙面的修补费用我们全额承担。",
         "xie4 xie4 nin2. que1 de luo2 si1 wo3 men ming2 tian1 yong4 kuai4 di4 ji4 gei3 nin2, shi1 fu4 hou4 tian1 shang4 men2 ba3 zhuo1 zi zhuang1 hao3, qiang2 mian4 de xiu1 bu3 fei4 yong4 wo3 men quan2 e2 cheng2 dan1."),
        (C, "行，那后天师傅几点来？",
         "xing2, na4 hou4 tian1 shi1 fu4 ji3 dian3 lai2?"),
        (A, "上午十点左右，师傅出发前会先给您打电话。",
         "shang4 wu3 shi2 dian3 zuo3 you4, shi1 fu4 chu1 fa1 qian2 hui4 xian1 gei3 nin2 da3 dian4 hua4."),
        (C, "好的，谢谢。",
         "hao3 de, xie4 xie4."),
    ], complaints=[
        _key("少了四颗螺丝", "螺丝", "少了", "缺", "配件", "零件", "装不起来"),
        _key("安装师傅蹭坏墙面", "墙", "漆", "蹭", "走廊", "修补"),
    ], liked=[
        _key("桌面木头结实", "木头", "结实", "颜色", "桌面"),
    ]),

)

# Written on 2026-12-07 after the second round's results had been read (so held_out_2 is tuned on from
# then on) and before the fixes they suggested: the calls to report after that round.
THIRD_ROUND: tuple[Script, ...] = (
    # ------------------------------------------------------------------ English
    _en("en_broadband_outage", "FibreNet", "home broadband", "held_out_3", [
        (A, "Hello, you're through to FibreNet support, my name is Tom. What can I do for you?"),
        (C, "Hi Tom. My internet has been dropping out every evening for two weeks now. It cuts off for ten "
            "minutes at a time, usually right in the middle of my work calls."),
        (A, "I'm sorry about that. Have you restarted the router since it started?"),
        (C, "Yes, several times. And when I reported it last week, I was promised an engineer would call me "
            "back within forty eight hours. Nobody ever called."),
        (A, "I can see the ticket, and you're right, it was never followed up. I apologise for that."),
        (C, "The speed is great when it works, I'll say that. Downloads are really fast."),
        (A, "I've booked an engineer visit for Thursday morning, and I'm taking two weeks off your bill for "
            "the trouble."),
        (C, "Thursday works. Will the engineer bring a new router?"),
        (A, "Yes, they'll bring one just in case. You'll get a text the evening before with the time slot."),
        (C, "Okay, thanks Tom."),
    ], complaints=[
        _key("connection drops every evening", "drop", "cuts off", "cut off", "disconnect", "outage",
             "ten minutes", "every evening", "two weeks", "unstable", "connection"),
        _key("promised call-back never came", "call back", "callback", "never called", "nobody ever called",
             "forty eight", "48", "followed up", "follow up", "ticket"),
    ], liked=[
        _key("fast speed when it works", "speed", "fast", "download"),
    ]),
    _en("en_bank_card", "Harbor Bank", "bank card", "held_out_3", [
        (C, "Hello, I'm calling because my card was blocked while I was abroad and nobody warned me."),
        (A, "Good morning, thank you for calling Harbor Bank, this is Elena. I'm sorry to hear that. Where were "
            "you when it happened?"),
        (C, "In Lisbon. I had told the bank about the trip in the app, and the card was still declined at the "
            "hotel, in front of everyone. It was embarrassing."),
        (A, "I can see the travel notice, and the fraud system flagged the hotel payment anyway. That should "
            "not have happened."),
        (C, "Then I tried the emergency number on the back of the card, and it doesn't work from abroad. I got "
            "a recorded message saying the number was not available."),
        (A, "That is a serious problem, I'll report the number to our technical team today."),
        (C, "Thanks. Your app is really good, to be fair, I could at least see every payment straight away."),
        (A, "I'm glad it helped. The block is removed now, and I've added a note so your travel notices are "
            "checked before any block."),
        (C, "Good. Can I use the card right away?"),
        (A, "Yes, right away. I'll also send you the international number that works from abroad."),
    ], complaints=[
        _key("card blocked abroad despite travel notice", "block", "declined", "abroad", "lisbon",
             "travel notice", "told the bank", "fraud", "embarrass"),
        _key("emergency number did not work from abroad", "emergency number", "not available",
             "doesn't work", "recorded message", "number on the back", "international number"),
    ], liked=[
        _key("the app shows payments", "app", "every payment", "straight away"),
    ]),
    # ------------------------------------------------------------------ Chinese
    _zh("zh_phone_repair", "极速修", "手机维修", "held_out_3", [
        (A, "您好，极速修客服中心，我是小周，请问有什么可以帮您？",
         "nin2 hao3, ji2 su4 xiu1 ke4 fu2 zhong1 xin1, wo3 shi4 xiao3 zhou1, qing3 wen4 you3 shen2 me ke3 yi3 bang1 nin2?"),
        (C, "你好，我上周把手机送去你们店里换屏幕，拿回来以后发现触摸不灵，经常点了没反应。",
         "ni3 hao3, wo3 shang4 zhou1 ba3 shou3 ji1 song4 qu4 ni3 men dian4 li3 huan4 ping2 mu4, na2 hui2 lai2 yi3 hou4 fa1 xian4 chu4 mo1 bu4 ling2, jing1 chang2 dian3 le mei2 fan3 ying4."),
        (A, "非常抱歉。请问是整个屏幕都不灵，还是某一块区域？",
         "fei1 chang2 bao4 qian4. qing3 wen4 shi4 zheng3 ge4 ping2 mu4 dou1 bu4 ling2, hai2 shi4 mou3 yi1 kuai4 qu1 yu4?"),
        (C, "主要是右下角，打字的时候特别明显。而且换屏花了八百块，比店员当初报的价格贵了两百。",
         "zhu3 yao4 shi4 you4 xia4 jiao3, da3 zi4 de shi2 hou4 te4 bie2 ming2 xian3. er2 qie3 huan4 ping2 hua1 le ba1 bai3 kuai4, bi3 dian4 yuan2 dang1 chu1 bao4 de jia4 ge2 gui4 le liang3 bai3."),
        (A, "报价的事情我查一下。按照价目表，您这个型号的屏幕是六百元，多收的两百元我们会退给您。",
         "bao4 jia4 de shi4 qing2 wo3 cha2 yi1 xia4. an4 zhao4 jia4 mu4 biao3, nin2 zhe4 ge xing2 hao4 de ping2 mu4 shi4 liu4 bai3 yuan2, duo1 shou1 de liang3 bai3 yuan2 wo3 men hui4 tui4 gei3 nin2."),
        (C, "那就好。你们店员态度倒是很好，耐心给我讲了很多保养手机的方法。",
         "na4 jiu4 hao3. ni3 men dian4 yuan2 tai4 du4 dao3 shi4 hen3 hao3, nai4 xin1 gei3 wo3 jiang3 le hen3 duo1 bao3 yang3 shou3 ji1 de fang1 fa3."),
        (A, "谢谢您的夸奖。触摸的问题，我们请您明天再到店里，师傅免费重新检查和更换。",
         "xie4 xie4 nin2 de kua1 jiang3. chu4 mo1 de wen4 ti2, wo3 men qing3 nin2 ming2 tian1 zai4 dao4 dian4 li3, shi1 fu4 mian3 fei4 chong2 xin1 jian3 cha2 he2 geng1 huan4."),
        (C, "明天下午可以吗？",
         "ming2 tian1 xia4 wu3 ke3 yi3 ma?"),
        (A, "可以的，我帮您预约明天下午两点，到店报您的手机号就行。",
         "ke3 yi3 de, wo3 bang1 nin2 yu4 yue1 ming2 tian1 xia4 wu3 liang3 dian3, dao4 dian4 bao4 nin2 de shou3 ji1 hao4 jiu4 xing2."),
        (C, "好的，谢谢。",
         "hao3 de, xie4 xie4."),
    ], complaints=[
        _key("换屏后触摸不灵", "触摸", "不灵", "没反应", "右下角", "打字"),
        _key("换屏比报价多收两百", "八百", "两百", "报价", "多收", "贵了", "价格"),
    ], liked=[
        _key("店员态度好、耐心", "店员", "态度", "耐心", "保养"),
    ]),
    _zh("zh_hotel_booking", "云宿", "酒店预订", "held_out_3", [
        (C, "你好，我通过你们的平台订了杭州的一家酒店，到了前台却说没有我的预订记录。",
         "ni3 hao3, wo3 tong1 guo4 ni3 men de ping2 tai2 ding4 le hang2 zhou1 de yi1 jia1 jiu3 dian4, dao4 le qian2 tai2 que4 shuo1 mei2 you3 wo3 de yu4 ding4 ji4 lu4."),
        (A, "您好，这里是云宿客服，我是小吴。给您带来不便，真的很抱歉。请问您的订单号是多少？",
         "nin2 hao3, zhe4 li3 shi4 yun2 su4 ke4 fu2, wo3 shi4 xiao3 wu2. gei3 nin2 dai4 lai2 bu4 bian4, zhen1 de hen3 bao4 qian4. qing3 wen4 nin2 de ding4 dan1 hao4 shi4 duo1 shao3?"),
        (C, "订单号是七三一九二。我在大堂等了四十分钟，最后只能另外花钱订了一间更贵的房间。",
         "ding4 dan1 hao4 shi4 qi1 san1 yi1 jiu3 er4. wo3 zai4 da4 tang2 deng3 le si4 shi2 fen1 zhong1, zui4 hou4 zhi3 neng2 ling4 wai4 hua1 qian2 ding4 le yi1 jian1 geng4 gui4 de fang2 jian1."),
        (A, "我看到了，是酒店那边系统没有同步您的订单。多花的房费我们会全额补偿给您。",
         "wo3 kan4 dao4 le, shi4 jiu3 dian4 na4 bian1 xi4 tong3 mei2 you3 tong2 bu4 nin2 de ding4 dan1. duo1 hua1 de fang2 fei4 wo3 men hui4 quan2 e2 bu3 chang2 gei3 nin2."),
        (C, "还有，我打你们客服电话打了三次都没人接，只好自己想办法。",
         "hai2 you3, wo3 da3 ni3 men ke4 fu2 dian4 hua4 da3 le san1 ci4 dou1 mei2 ren2 jie1, zhi3 hao3 zi4 ji3 xiang3 ban4 fa3."),
        (A, "非常抱歉，那天晚上来电特别多。我会把这个情况反馈给客服主管。",
         "fei1 chang2 bao4 qian4, na4 tian1 wan3 shang4 lai2 dian4 te4 bie2 duo1. wo3 hui4 ba3 zhe4 ge qing2 kuang4 fan3 kui4 gei3 ke4 fu2 zhu3 guan3."),
        (C, "好吧。其实你们的手机应用用起来挺方便的，订房很快，所以我一直用你们。",
         "hao3 ba. qi2 shi2 ni3 men de shou3 ji1 ying4 yong4 yong4 qi3 lai2 ting3 fang1 bian4 de, ding4 fang2 hen3 kuai4, suo3 yi3 wo3 yi4 zhi2 yong4 ni3 men."),
        (A, "谢谢您的支持。补偿款会在三个工作日内退回到您的支付账户。",
         "xie4 xie4 nin2 de zhi1 chi2. bu3 chang2 kuan3 hui4 zai4 san1 ge4 gong1 zuo4 ri4 nei4 tui4 hui2 dao4 nin2 de zhi1 fu4 zhang4 hu4."),
        (C, "好的，谢谢你。",
         "hao3 de, xie4 xie4 ni3."),
    ], complaints=[
        _key("酒店没有预订记录", "预订记录", "没有我的预订", "没有预订", "订单", "同步", "前台"),
        _key("大堂等了四十分钟、多花钱订房", "四十分钟", "等了", "更贵", "另外花钱", "房费", "多花"),
        _key("客服电话打不通", "客服电话", "没人接", "打了三次", "打不通", "电话"),
    ], liked=[
        _key("手机应用方便、订房快", "方便", "应用", "订房很快", "好用"),
    ]),
)
