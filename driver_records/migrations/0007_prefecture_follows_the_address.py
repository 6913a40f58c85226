# R4: the prefecture of residence becomes a column the database computes from the address (a stored
# generated column), so it follows every change of address whichever path makes it. The column is
# dropped and added again (PostgreSQL cannot turn a column into a generated one): each record's
# prefecture is then its address's; a record whose address names no prefecture gets "" (no office
# serves it until its address is corrected).

import driver_records.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('driver_records', '0006_lean_write_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='driverrecord',
            name='address',
            field=models.CharField(max_length=200, validators=[driver_records.models.address_begins_with_prefecture], verbose_name='address'),
        ),
        migrations.RemoveField(model_name='driverrecord', name='prefecture'),
        migrations.AddField(
            model_name='driverrecord',
            name='prefecture',
            field=models.GeneratedField(choices=[('01', '北海道'), ('02', '青森県'), ('03', '岩手県'), ('04', '宮城県'), ('05', '秋田県'), ('06', '山形県'), ('07', '福島県'), ('08', '茨城県'), ('09', '栃木県'), ('10', '群馬県'), ('11', '埼玉県'), ('12', '千葉県'), ('13', '東京都'), ('14', '神奈川県'), ('15', '新潟県'), ('16', '富山県'), ('17', '石川県'), ('18', '福井県'), ('19', '山梨県'), ('20', '長野県'), ('21', '岐阜県'), ('22', '静岡県'), ('23', '愛知県'), ('24', '三重県'), ('25', '滋賀県'), ('26', '京都府'), ('27', '大阪府'), ('28', '兵庫県'), ('29', '奈良県'), ('30', '和歌山県'), ('31', '鳥取県'), ('32', '島根県'), ('33', '岡山県'), ('34', '広島県'), ('35', '山口県'), ('36', '徳島県'), ('37', '香川県'), ('38', '愛媛県'), ('39', '高知県'), ('40', '福岡県'), ('41', '佐賀県'), ('42', '長崎県'), ('43', '熊本県'), ('44', '大分県'), ('45', '宮崎県'), ('46', '鹿児島県'), ('47', '沖縄県')], db_persist=True, expression=models.Case(models.When(address__startswith='北海道', then=models.Value('01')), models.When(address__startswith='青森県', then=models.Value('02')), models.When(address__startswith='岩手県', then=models.Value('03')), models.When(address__startswith='宮城県', then=models.Value('04')), models.When(address__startswith='秋田県', then=models.Value('05')), models.When(address__startswith='山形県', then=models.Value('06')), models.When(address__startswith='福島県', then=models.Value('07')), models.When(address__startswith='茨城県', then=models.Value('08')), models.When(address__startswith='栃木県', then=models.Value('09')), models.When(address__startswith='群馬県', then=models.Value('10')), models.When(address__startswith='埼玉県', then=models.Value('11')), models.When(address__startswith='千葉県', then=models.Value('12')), models.When(address__startswith='東京都', then=models.Value('13')), models.When(address__startswith='神奈川県', then=models.Value('14')), models.When(address__startswith='新潟県', then=models.Value('15')), models.When(address__startswith='富山県', then=models.Value('16')), models.When(address__startswith='石川県', then=models.Value('17')), models.When(address__startswith='福井県', then=models.Value('18')), models.When(address__startswith='山梨県', then=models.Value('19')), models.When(address__startswith='長野県', then=models.Value('20')), models.When(address__startswith='岐阜県', then=models.Value('21')), models.When(address__startswith='静岡県', then=models.Value('22')), models.When(address__startswith='愛知県', then=models.Value('23')), models.When(address__startswith='三重県', then=models.Value('24')), models.When(address__startswith='滋賀県', then=models.Value('25')), models.When(address__startswith='京都府', then=models.Value('26')), models.When(address__startswith='大阪府', then=models.Value('27')), models.When(address__startswith='兵庫県', then=models.Value('28')), models.When(address__startswith='奈良県', then=models.Value('29')), models.When(address__startswith='和歌山県', then=models.Value('30')), models.When(address__startswith='鳥取県', then=models.Value('31')), models.When(address__startswith='島根県', then=models.Value('32')), models.When(address__startswith='岡山県', then=models.Value('33')), models.When(address__startswith='広島県', then=models.Value('34')), models.When(address__startswith='山口県', then=models.Value('35')), models.When(address__startswith='徳島県', then=models.Value('36')), models.When(address__startswith='香川県', then=models.Value('37')), models.When(address__startswith='愛媛県', then=models.Value('38')), models.When(address__startswith='高知県', then=models.Value('39')), models.When(address__startswith='福岡県', then=models.Value('40')), models.When(address__startswith='佐賀県', then=models.Value('41')), models.When(address__startswith='長崎県', then=models.Value('42')), models.When(address__startswith='熊本県', then=models.Value('43')), models.When(address__startswith='大分県', then=models.Value('44')), models.When(address__startswith='宮崎県', then=models.Value('45')), models.When(address__startswith='鹿児島県', then=models.Value('46')), models.When(address__startswith='沖縄県', then=models.Value('47')), default=models.Value('')), output_field=models.CharField(choices=[('01', '北海道'), ('02', '青森県'), ('03', '岩手県'), ('04', '宮城県'), ('05', '秋田県'), ('06', '山形県'), ('07', '福島県'), ('08', '茨城県'), ('09', '栃木県'), ('10', '群馬県'), ('11', '埼玉県'), ('12', '千葉県'), ('13', '東京都'), ('14', '神奈川県'), ('15', '新潟県'), ('16', '富山県'), ('17', '石川県'), ('18', '福井県'), ('19', '山梨県'), ('20', '長野県'), ('21', '岐阜県'), ('22', '静岡県'), ('23', '愛知県'), ('24', '三重県'), ('25', '滋賀県'), ('26', '京都府'), ('27', '大阪府'), ('28', '兵庫県'), ('29', '奈良県'), ('30', '和歌山県'), ('31', '鳥取県'), ('32', '島根県'), ('33', '岡山県'), ('34', '広島県'), ('35', '山口県'), ('36', '徳島県'), ('37', '香川県'), ('38', '愛媛県'), ('39', '高知県'), ('40', '福岡県'), ('41', '佐賀県'), ('42', '長崎県'), ('43', '熊本県'), ('44', '大分県'), ('45', '宮崎県'), ('46', '鹿児島県'), ('47', '沖縄県')], max_length=2), verbose_name='prefecture of residence'),
        ),
    ]
